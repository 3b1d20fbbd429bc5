//! Schema migrations, applied in order at start, each once, in one transaction with its record.

use crate::{Result, Store, StoreError, millis, query};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// (version, description, SQLite script, PostgreSQL script). The scripts differ only in how ids are
/// generated; a test holds them to that.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "session lookups",
        include_str!("../migrations/sqlite/0002_session_lookups.sql"),
        include_str!("../migrations/postgres/0002_session_lookups.sql"),
    ),
    (
        3,
        "energy progress",
        include_str!("../migrations/sqlite/0003_energy_progress.sql"),
        include_str!("../migrations/postgres/0003_energy_progress.sql"),
    ),
    (
        4,
        "tariffs",
        include_str!("../migrations/sqlite/0004_tariffs.sql"),
        include_str!("../migrations/postgres/0004_tariffs.sql"),
    ),
    (
        5,
        "payments",
        include_str!("../migrations/sqlite/0005_payments.sql"),
        include_str!("../migrations/postgres/0005_payments.sql"),
    ),
    (
        6,
        "ledger feed",
        include_str!("../migrations/sqlite/0006_ledger_feed.sql"),
        include_str!("../migrations/postgres/0006_ledger_feed.sql"),
    ),
    (
        7,
        "site city",
        include_str!("../migrations/sqlite/0007_site_city.sql"),
        include_str!("../migrations/postgres/0007_site_city.sql"),
    ),
    (
        8,
        "federation",
        include_str!("../migrations/sqlite/0008_federation.sql"),
        include_str!("../migrations/postgres/0008_federation.sql"),
    ),
    (
        9,
        "roaming settlements and tariffs",
        include_str!("../migrations/sqlite/0009_roaming_settlements.sql"),
        include_str!("../migrations/postgres/0009_roaming_settlements.sql"),
    ),
    (
        10,
        "ocpi partners",
        include_str!("../migrations/sqlite/0010_ocpi_partners.sql"),
        include_str!("../migrations/postgres/0010_ocpi_partners.sql"),
    ),
    (
        11,
        "drivers",
        include_str!("../migrations/sqlite/0011_drivers.sql"),
        include_str!("../migrations/postgres/0011_drivers.sql"),
    ),
    (
        12,
        "ocpi reservations",
        include_str!("../migrations/sqlite/0012_ocpi_reservations.sql"),
        include_str!("../migrations/postgres/0012_ocpi_reservations.sql"),
    ),
    (
        13,
        "member roles, credentials and login failures",
        include_str!("../migrations/sqlite/0013_member_roles.sql"),
        include_str!("../migrations/postgres/0013_member_roles.sql"),
    ),
    (
        14,
        "audit log",
        include_str!("../migrations/sqlite/0014_audit_log.sql"),
        include_str!("../migrations/postgres/0014_audit_log.sql"),
    ),
    (
        15,
        "member requests seen",
        include_str!("../migrations/sqlite/0015_member_requests_seen.sql"),
        include_str!("../migrations/postgres/0015_member_requests_seen.sql"),
    ),
    (
        16,
        "dispute resolutions",
        include_str!("../migrations/sqlite/0016_dispute_resolutions.sql"),
        include_str!("../migrations/postgres/0016_dispute_resolutions.sql"),
    ),
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
                for &(version, description, sqlite, postgres) in MIGRATIONS {
                    let script = if conn.is_postgres() { postgres } else { sqlite };
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
                    conn.execute_script(script).await?;
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
