//! Schema migrations, applied in order at start, each once, in one transaction with its record.

use crate::{Result, Store, StoreError, millis, query};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// (version, description, script). One script serves both databases: `{{auto_id}}` stands for the
/// one thing they spell differently, a generated id column (see [`for_backend`]).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "session lookups", include_str!("../migrations/0002_session_lookups.sql")),
    (3, "energy progress", include_str!("../migrations/0003_energy_progress.sql")),
    (4, "tariffs", include_str!("../migrations/0004_tariffs.sql")),
    (5, "payments", include_str!("../migrations/0005_payments.sql")),
    (6, "ledger feed", include_str!("../migrations/0006_ledger_feed.sql")),
    (7, "site city", include_str!("../migrations/0007_site_city.sql")),
    (8, "federation", include_str!("../migrations/0008_federation.sql")),
    (9, "roaming settlements and tariffs", include_str!("../migrations/0009_roaming_settlements.sql")),
    (10, "ocpi partners", include_str!("../migrations/0010_ocpi_partners.sql")),
    (11, "drivers", include_str!("../migrations/0011_drivers.sql")),
    (12, "ocpi reservations", include_str!("../migrations/0012_ocpi_reservations.sql")),
    (13, "member roles, credentials and login failures", include_str!("../migrations/0013_member_roles.sql")),
    (14, "audit log", include_str!("../migrations/0014_audit_log.sql")),
    (15, "member requests seen", include_str!("../migrations/0015_member_requests_seen.sql")),
    (16, "dispute resolutions", include_str!("../migrations/0016_dispute_resolutions.sql")),
    (17, "change lookups", include_str!("../migrations/0017_change_lookups.sql")),
    (18, "roaming sessions", include_str!("../migrations/0018_roaming_sessions.sql")),
    (19, "phone sign-up", include_str!("../migrations/0019_phone_signup.sql")),
    (20, "day totals", include_str!("../migrations/0020_day_totals.sql")),
    (21, "driver favourites", include_str!("../migrations/0021_driver_favourites.sql")),
];

pub(crate) async fn apply(store: &Store) -> Result<()> {
    store
        .write(|conn| {
            Box::pin(async move {
                if conn.is_postgres() {
                    // Nodes starting together against one server migrate one after another.
                    query("SELECT pg_advisory_xact_lock(7201000001)").execute(&mut *conn).await?;
                }
                query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
                     description TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                )
                .execute(&mut *conn)
                .await?;
                let applied = query("SELECT version, checksum FROM schema_migrations").fetch_all(&mut *conn).await?;
                let known = MIGRATIONS.len() as i64;
                if let Some(newer) = applied.iter().filter_map(|row| row.try_get::<i64, _>("version").ok()).find(|v| *v > known) {
                    return Err(StoreError::Migration(format!(
                        "the database has schema version {newer}, newer than this chargemesh knows ({known}); run a newer chargemesh"
                    )));
                }
                for &(version, description, script) in MIGRATIONS {
                    let script = for_backend(script, conn.is_postgres());
                    // Over the script as run, so databases migrated from the two copies of the
                    // scripts that existed before keep their checksums.
                    let checksum = hex::encode(Sha256::digest(script.as_bytes()));
                    let recorded = applied.iter().find(|row| row.try_get::<i64, _>("version").ok() == Some(version));
                    if let Some(row) = recorded {
                        if row.try_get::<String, _>("checksum")? != checksum {
                            return Err(StoreError::Migration(format!(
                                "migration {version} ({description}) was changed after it was applied to this database"
                            )));
                        }
                        continue;
                    }
                    conn.execute_script(&script).await?;
                    query("INSERT INTO schema_migrations (version, description, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                        .bind(version)
                        .bind(description)
                        .bind(checksum)
                        .bind(millis(Timestamp::now()))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .await
}

/// The script as the backend runs it: `{{auto_id}}` becomes that backend's generated 64-bit id key.
fn for_backend(script: &str, postgres: bool) -> String {
    script.replace("{{auto_id}}", if postgres { "BIGSERIAL PRIMARY KEY" } else { "INTEGER PRIMARY KEY AUTOINCREMENT" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_substituted_and_versions_count_up() {
        for (i, &(version, description, script)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(version, i as i64 + 1, "{description}: versions are 1, 2, 3, …");
            for postgres in [false, true] {
                let run = for_backend(script, postgres);
                assert!(!run.contains("{{"), "{description}: a placeholder other than {{{{auto_id}}}} is left");
                assert_eq!(run.contains("AUTOINCREMENT"), !postgres && script.contains("{{auto_id}}"));
                assert_eq!(run.contains("BIGSERIAL"), postgres && script.contains("{{auto_id}}"));
            }
        }
    }
}
