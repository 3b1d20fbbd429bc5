//! Staff accounts of the operator API: created, listed, disabled, given a new password, deleted,
//! and their logins. The last active member administrator always stays.

use super::api_keys::StaffActor;
use super::{Error, Operations, Outcome, passwords};
use chargemesh_core::access::{Role, Scope, scope_within};
use chargemesh_store::staff::{self, CredentialKind, Grant, NewCredential, StaffMember, StaffStatus};
use chargemesh_store::{Conn, Result};
use jiff::Timestamp;

impl Operations {
    /// Creates a staff account; a taken username is a conflict, an unknown operator not found.
    pub async fn create_staff(
        &self,
        username: String,
        password_hash: String,
        role: Role,
        operator_id: Option<i64>,
    ) -> Outcome<StaffMember> {
        let now = self.now();
        let name = username.clone();
        let created = self
            .store
            .write(move |tx| {
                Box::pin(async move { staff::create_staff(tx, &name, &password_hash, role, operator_id, now).await })
            })
            .await;
        match created {
            Err(e) if e.is_unique_violation() => Err(Error::conflict(format!("username {username:?} is taken"))),
            Err(e) if e.is_foreign_key_violation() => {
                Err(Error::not_found(format!("operator {}", operator_id.unwrap_or_default())))
            }
            other => Ok(other?),
        }
    }

    /// The staff accounts of `scope` (every account for `None`).
    pub async fn list_staff(&self, scope: Scope) -> Outcome<Vec<StaffMember>> {
        Ok(self.store.read(move |conn| Box::pin(staff::list_staff(conn, scope))).await?)
    }

    /// The staff account `id`, if it exists.
    pub async fn staff_account(&self, id: i64) -> Outcome<Option<StaffMember>> {
        Ok(self.store.read(move |conn| Box::pin(staff::get_staff(conn, id))).await?)
    }

    /// The staff account named `username`, if it exists.
    pub async fn staff_account_named(&self, username: String) -> Outcome<Option<StaffMember>> {
        Ok(self
            .store
            .read(move |conn| Box::pin(async move { staff::staff_by_username(conn, &username).await }))
            .await?)
    }

    /// Sets account `id`'s status and password, each if given, for `actor`: an account it does not see
    /// is not found, one above its role forbidden, a password that breaks the rules invalid, and the
    /// last active member administrator stays active. Returns the account before and after.
    pub async fn update_staff_as(
        &self,
        id: i64,
        actor: StaffActor,
        status: Option<StaffStatus>,
        password: Option<String>,
    ) -> Outcome<(StaffMember, StaffMember)> {
        let account = self.staff_account(id).await?.filter(|a| scope_within(a.operator_id, actor.scope));
        let before = account.ok_or_else(|| Error::not_found(format!("staff account {id}")))?;
        if !before.role.within(actor.role) {
            return Err(Error::Forbidden(format!("a {} cannot change a {} account", actor.role, before.role)));
        }
        let password_hash = match password {
            Some(password) => {
                if let Some(problem) = passwords::weakness(&password, &[&before.username]) {
                    return Err(Error::invalid(problem));
                }
                let hash = tokio::task::spawn_blocking(move || passwords::hash(&password)).await;
                Some(hash.map_err(|_| Error::invalid("could not hash the password"))?)
            }
            None => None,
        };
        let role = before.role;
        let after = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(status) = status {
                        if status == StaffStatus::Disabled && !keeps_a_member_admin(&mut *tx, id, role).await? {
                            return Ok(Err(last_member_admin()));
                        }
                        staff::set_status(&mut *tx, id, status).await?;
                    }
                    if let Some(hash) = &password_hash {
                        staff::set_password(&mut *tx, id, hash, None).await?;
                    }
                    Ok(staff::get_staff(tx, id).await?.ok_or_else(|| Error::not_found(format!("staff account {id}"))))
                })
            })
            .await??;
        Ok((before, after))
    }

    /// Deletes account `id` and every credential it has, for `actor`: an account it does not see is
    /// not found, one above its role is forbidden, and the last active member administrator stays.
    /// Returns the account as it was.
    pub async fn delete_staff_as(&self, id: i64, actor: StaffActor) -> Outcome<StaffMember> {
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let account = staff::get_staff(&mut *tx, id).await?;
                    let Some(account) = account.filter(|a| scope_within(a.operator_id, actor.scope)) else {
                        return Ok(Err(Error::not_found(format!("staff account {id}"))));
                    };
                    if !account.role.within(actor.role) {
                        let refusal = format!("a {} cannot change a {} account", actor.role, account.role);
                        return Ok(Err(Error::Forbidden(refusal)));
                    }
                    if !keeps_a_member_admin(&mut *tx, id, account.role).await? {
                        return Ok(Err(last_member_admin()));
                    }
                    staff::delete_staff(tx, id).await?;
                    Ok(Ok(account))
                })
            })
            .await?
    }

    /// The active account whose login or API key has the digest `secret_digest` at `now`, and what
    /// the credential grants.
    pub async fn staff_of_credential(
        &self,
        secret_digest: String,
        now: Timestamp,
    ) -> Outcome<Option<(StaffMember, Grant)>> {
        Ok(self
            .store
            .read(move |conn| Box::pin(async move { staff::staff_by_credential(conn, &secret_digest, now).await }))
            .await?)
    }

    /// Opens a login of account `staff_id` until `expires_at`; answers its secret, shown once.
    pub async fn open_staff_login(&self, staff_id: i64, expires_at: Timestamp, now: Timestamp) -> Outcome<String> {
        let token = passwords::random_secret("cmt_");
        let digest = passwords::digest(&token);
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let login = NewCredential {
                        secret_digest: &digest,
                        staff_id,
                        kind: CredentialKind::Login,
                        name: None,
                        role: None,
                        operator_id: None,
                        expires_at: Some(expires_at),
                    };
                    staff::add_credential(tx, &login, now).await
                })
            })
            .await?;
        Ok(token)
    }

    /// Revokes the staff login or API key whose secret has the digest `secret_digest`.
    pub async fn revoke_staff_credential(&self, secret_digest: String) -> Outcome<()> {
        self.store.write(move |tx| Box::pin(async move { staff::revoke_credential(tx, &secret_digest).await })).await?;
        Ok(())
    }

    /// Sets account `id`'s password; its logins end but the one with the digest `keep`.
    pub async fn set_staff_password(&self, id: i64, password_hash: String, keep: Option<String>) -> Outcome<()> {
        self.store
            .write(move |tx| {
                Box::pin(async move { staff::set_password(tx, id, &password_hash, keep.as_deref()).await })
            })
            .await?;
        Ok(())
    }
}

/// Whether another active member administrator remains if account `id` (with `role`) goes.
async fn keeps_a_member_admin(tx: &mut Conn, id: i64, role: Role) -> Result<bool> {
    if role != Role::MemberAdmin {
        return Ok(true);
    }
    let others = staff::count_active_with_role(&mut *tx, Role::MemberAdmin).await?;
    let this_active = staff::get_staff(tx, id).await?.is_some_and(|m| m.status == StaffStatus::Active);
    Ok(others - i64::from(this_active) > 0)
}

fn last_member_admin() -> Error {
    Error::conflict("this is the last active member administrator: create another one first")
}
