//! What keeps a node's records in order across restarts and over time: the first administrator,
//! commands a crash left waiting, and old records nobody needs any more.

use crate::{Operations, Outcome, passwords};
use chargemesh_store::{commands, logins, messages, staff};
use jiff::SignedDuration;

impl Operations {
    /// Creates the `admin` account with `password` if the node has no staff yet; says whether it did.
    pub async fn create_first_admin(&self, password: &str) -> Outcome<bool> {
        let now = self.now();
        if self.store.read(|conn| Box::pin(staff::count_staff(conn))).await? > 0 {
            return Ok(false);
        }
        let hash = passwords::hash(password);
        let created = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    // Another node sharing the database may have created it meanwhile.
                    if staff::count_staff(&mut *tx).await? > 0 {
                        return Ok(false);
                    }
                    let role = chargemesh_core::access::Role::MemberAdmin;
                    staff::create_staff(tx, "admin", &hash, role, None, now).await?;
                    Ok(true)
                })
            })
            .await?;
        Ok(created)
    }

    /// Marks failed the commands the previous run left waiting for a charger's answer (nobody waits
    /// for them any more); returns how many.
    pub async fn fail_commands_left_pending(&self) -> Outcome<u64> {
        let now = self.now();
        Ok(self.store.write(move |tx| Box::pin(commands::fail_pending(tx, now))).await?)
    }

    /// Every hour, forgets charger message replies older than `days` and wrong passwords that make
    /// nobody wait any more (a guesser at many addresses would otherwise fill the table).
    pub async fn forget_old_records(self, days: u32) {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            let now = self.now();
            let before = now - SignedDuration::from_hours(24 * i64::from(days));
            let result = self
                .store
                .write(move |tx| {
                    Box::pin(async move {
                        let replies = messages::forget_before(&mut *tx, before).await?;
                        let failures = logins::purge(tx, now - SignedDuration::from_hours(24)).await?;
                        Ok((replies, failures))
                    })
                })
                .await;
            match result {
                Ok((replies, failures)) if replies + failures > 0 => {
                    tracing::debug!(replies, failures, "old charger replies and login failures forgotten")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not forget old charger replies and login failures"),
            }
        }
    }

    /// Closes the store's connections, once the node has stopped using them.
    pub async fn close(&self) {
        self.store.close().await;
    }
}
