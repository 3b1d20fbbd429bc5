//! API keys for scripts: each acts for a staff account with a role and operator of its own, and is
//! kept only as the digest of its secret.

use super::{Error, Operations, Outcome, passwords};
use chargemesh_core::access::{Need, Role, Scope, scope_within};
use chargemesh_store::staff::{self, ApiKey, CredentialKind, NewCredential, StaffMember};
use jiff::Timestamp;

impl Operations {
    /// Creates an API key named `name` acting for account `staff_id`; answers its secret (shown
    /// once) and the key as listed. An unknown operator is not found.
    pub async fn create_api_key(
        &self,
        staff_id: i64,
        name: String,
        role: Role,
        operator_id: Option<i64>,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Outcome<(String, ApiKey)> {
        let key = passwords::random_secret("cmk_");
        let digest = passwords::digest(&key);
        let created = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let new = NewCredential {
                        secret_digest: &digest,
                        staff_id,
                        kind: CredentialKind::ApiKey,
                        name: Some(&name),
                        role: Some(role),
                        operator_id,
                        expires_at,
                    };
                    let id = staff::add_credential(&mut *tx, &new, now).await?;
                    staff::get_api_key(tx, id).await
                })
            })
            .await;
        let api_key = match created {
            Err(e) if e.is_foreign_key_violation() => {
                return Err(Error::not_found(format!("operator {}", operator_id.unwrap_or_default())));
            }
            other => other?.ok_or_else(|| Error::not_found("the new key"))?,
        };
        Ok((key, api_key))
    }

    /// The API keys `actor` sees: its own, and, when it administers accounts, those of every
    /// account it may change (within its scope, at or below its role).
    pub async fn api_keys_seen_by(&self, actor: StaffActor) -> Outcome<Vec<ApiKey>> {
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    if !actor.role.permits(Need::OperatorAdmin) {
                        return staff::list_api_keys(conn, Some(actor.staff_id), None).await;
                    }
                    let keys = staff::list_api_keys(&mut *conn, None, actor.scope).await?;
                    let accounts = staff::list_staff(conn, actor.scope).await?;
                    let administered = |id: i64| accounts.iter().any(|a| a.id == id && actor.administers(a));
                    Ok(keys.into_iter().filter(|k| k.staff_id == actor.staff_id || administered(k.staff_id)).collect())
                })
            })
            .await?;
        Ok(found)
    }

    /// Revokes API key `id` at once, for `actor`: its own key, or one of an account it administers
    /// (any other is not found). Returns the key as it was.
    pub async fn revoke_api_key_as(&self, id: i64, actor: StaffActor) -> Outcome<ApiKey> {
        let revoked = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let Some(key) = staff::get_api_key(&mut *tx, id).await? else { return Ok(None) };
                    let account = staff::get_staff(&mut *tx, key.staff_id).await?;
                    if key.staff_id != actor.staff_id && !account.is_some_and(|a| actor.administers(&a)) {
                        return Ok(None);
                    }
                    staff::revoke_api_key(tx, id).await?;
                    Ok(Some(key))
                })
            })
            .await?;
        revoked.ok_or_else(|| Error::not_found(format!("API key {id}")))
    }
}

/// Who acts on staff records: the account, and the role and scope it acts with.
#[derive(Debug, Clone, Copy)]
pub struct StaffActor {
    pub staff_id: i64,
    pub role: Role,
    pub scope: Scope,
}

impl StaffActor {
    /// Whether this actor may change `account`: an operator administrator (or above), within its
    /// scope, over an account at or below its role.
    pub fn administers(&self, account: &StaffMember) -> bool {
        self.role.permits(Need::OperatorAdmin)
            && scope_within(account.operator_id, self.scope)
            && account.role.within(self.role)
    }
}
