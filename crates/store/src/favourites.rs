//! Drivers' favourite chargers.

use crate::{Conn, Result, instant, millis, query};
use jiff::Timestamp;

/// A charger a driver marked: the member whose it is and its EVSE uid.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Favourite {
    pub operator: String,
    pub evse_uid: String,
    pub created_at: Timestamp,
}

/// Driver `driver_id`'s favourites, the newest first.
pub async fn of_driver(conn: &mut Conn, driver_id: i64) -> Result<Vec<Favourite>> {
    query(
        "SELECT operator, evse_uid, created_at FROM driver_favourites WHERE driver_id = $1 \
         ORDER BY created_at DESC, operator, evse_uid",
    )
    .bind(driver_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(Favourite {
            operator: row.try_get("operator")?,
            evse_uid: row.try_get("evse_uid")?,
            created_at: instant(row.try_get("created_at")?)?,
        })
    })
    .collect()
}

/// How many favourites driver `driver_id` has.
pub async fn count(conn: &mut Conn, driver_id: i64) -> Result<i64> {
    query("SELECT COUNT(*) FROM driver_favourites WHERE driver_id = $1")
        .bind(driver_id)
        .fetch_one(conn)
        .await?
        .try_get(0)
}

/// Marks a charger; marking it again changes nothing. Returns whether it was new.
pub async fn add(conn: &mut Conn, driver_id: i64, operator: &str, evse_uid: &str, now: Timestamp) -> Result<bool> {
    let added = query(
        "INSERT INTO driver_favourites (driver_id, operator, evse_uid, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (driver_id, operator, evse_uid) DO NOTHING",
    )
    .bind(driver_id)
    .bind(operator)
    .bind(evse_uid)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(added > 0)
}

/// Unmarks a charger; returns whether it was marked.
pub async fn remove(conn: &mut Conn, driver_id: i64, operator: &str, evse_uid: &str) -> Result<bool> {
    let removed = query("DELETE FROM driver_favourites WHERE driver_id = $1 AND operator = $2 AND evse_uid = $3")
        .bind(driver_id)
        .bind(operator)
        .bind(evse_uid)
        .execute(conn)
        .await?;
    Ok(removed > 0)
}
