//! Why a use case did not do what it was asked. Each caller renders it in its own terms: the API as
//! a JSON error with a stable code, OCPI as its status codes.

use chargemesh_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What was named does not exist, or is not the caller's to see (the two are not told apart).
    #[error("{0} does not exist or is not yours")]
    NotFound(String),
    /// The request is well-formed but not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The request contradicts what is recorded: a duplicate, or a state that does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A rule of the business refused it, named by a stable code such as `charger_not_connected`.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The store failed; the caller logs it and says no more than that.
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
}

/// What a use case returns.
pub type Outcome<T> = Result<T, Error>;

impl Error {
    pub fn not_found(what: impl std::fmt::Display) -> Error {
        Error::NotFound(what.to_string())
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::Invalid(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Error {
        Error::Conflict(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::Forbidden(message.into())
    }

    pub fn refused(code: &'static str, message: impl Into<String>) -> Error {
        Error::Refused { code, message: message.into() }
    }
}
