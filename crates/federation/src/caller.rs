//! Who a request proved to be, as the authentication layer (`auth`) hands it to the handlers.

/// The proven caller of a request, for the handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A consortium member, by party id.
    Member(String),
    /// A platform outside the consortium registered with OCPI credentials, by its id here, with the
    /// token it called with.
    Partner { id: i64, token: String },
    /// A platform registering with its registration token (TOKEN_A).
    Registering { id: i64 },
}

/// The consortium member calling, for the endpoints only members may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member(pub String);
