//! The credentials module's object (OCPI 2.2.1, section 7): what one platform gives another to be
//! called with — a token, its versions URL and the roles it plays.

use super::locations::BusinessDetails;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// The token the other platform is to call this one with.
    pub token: String,
    /// This platform's versions endpoint.
    pub url: String,
    pub roles: Vec<CredentialsRole>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialsRole {
    pub role: Role,
    pub business_details: BusinessDetails,
    pub party_id: String,
    pub country_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Cpo,
    Emsp,
    Hub,
    Nap,
    Nsp,
    Other,
    Scsp,
}
