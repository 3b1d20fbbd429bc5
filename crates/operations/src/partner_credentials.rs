//! Who may call this node's OCPI endpoints: consortium members' signed requests, each accepted
//! once, and platforms outside the consortium, by the tokens this node issued them.

use super::Operations;
use crate::Outcome;
use chargemesh_store::federation;
use chargemesh_store::partners::{self, Partner};
use jiff::Timestamp;

/// What a partner gives at registration: its token for this node's calls, its versions URL and its
/// roles (OCPI JSON).
pub struct PartnerCredentials {
    pub token: String,
    pub versions_url: String,
    pub roles: String,
}

impl Operations {
    /// Records a member request by the digest of what it signed: true the first time, false for a
    /// replay; requests signed before `forget_before` are forgotten.
    pub async fn first_sight_of_member_request(
        &self,
        digest: String,
        signed_at: Timestamp,
        forget_before: Timestamp,
    ) -> Outcome<bool> {
        let first = self
            .store
            .write(move |tx| {
                Box::pin(async move { federation::first_sight(tx, &digest, signed_at, forget_before).await })
            })
            .await?;
        Ok(first)
    }

    /// The partner holding the token whose digest is `token_hash`, and whether it is registered with
    /// it (`false`: it registers with it).
    pub async fn partner_holding_token(&self, token_hash: String) -> Outcome<Option<(Partner, bool)>> {
        let found =
            self.store.read(move |conn| Box::pin(async move { partners::by_token(conn, &token_hash).await })).await?;
        Ok(found)
    }

    /// Records partner `id`'s credentials and the digest of the token issued to it now; false when
    /// the partner is no longer there.
    pub async fn record_partner_credentials(
        &self,
        id: i64,
        token_hash: String,
        given: PartnerCredentials,
    ) -> Outcome<bool> {
        let now = self.now();
        let registered = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let given = (given.token.as_str(), given.versions_url.as_str(), given.roles.as_str());
                    partners::register(tx, id, &token_hash, given, now).await
                })
            })
            .await?;
        Ok(registered)
    }

    /// Ends partner `id`'s registration at its request: its token stops working.
    pub async fn end_partner_registration(&self, id: i64) -> Outcome<bool> {
        let now = self.now();
        let revoked = self.store.write(move |tx| Box::pin(async move { partners::revoke(tx, id, now).await })).await?;
        Ok(revoked)
    }
}
