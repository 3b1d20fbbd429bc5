//! API keys for scripts: each acts for a staff account with a role and operator of its own, and is
//! kept only as the digest of its secret.

use super::{Error, Operations, Outcome, passwords};
use chargemesh_core::access::{Role, Scope};
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

    /// The API keys reaching `scope` and the staff accounts of `scope`, read together.
    pub async fn api_keys_and_accounts(&self, scope: Scope) -> Outcome<(Vec<ApiKey>, Vec<StaffMember>)> {
        Ok(self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    Ok((staff::list_api_keys(&mut *conn, None, scope).await?, staff::list_staff(conn, scope).await?))
                })
            })
            .await?)
    }

    /// The API keys of account `staff_id`.
    pub async fn api_keys_of(&self, staff_id: i64) -> Outcome<Vec<ApiKey>> {
        Ok(self.store.read(move |conn| Box::pin(staff::list_api_keys(conn, Some(staff_id), None))).await?)
    }

    /// API key `id`, if it exists.
    pub async fn api_key(&self, id: i64) -> Outcome<Option<ApiKey>> {
        Ok(self.store.read(move |conn| Box::pin(staff::get_api_key(conn, id))).await?)
    }

    /// Revokes API key `id` at once.
    pub async fn revoke_api_key(&self, id: i64) -> Outcome<()> {
        self.store.write(move |tx| Box::pin(staff::revoke_api_key(tx, id))).await?;
        Ok(())
    }
}
