//! Operators (the member's own tenants: charging businesses it runs chargers for) and their sites.

use crate::{Conn, Result, Row, instant, millis, query};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    /// Keeps refundable wallet balances for its drivers.
    pub wallets_enabled: bool,
    /// Drivers who sign up in the app with their phone become this operator's (one per node).
    pub driver_signup: bool,
    pub created_at: Timestamp,
}

pub async fn create_operator(conn: &mut Conn, name: &str, now: Timestamp) -> Result<Operator> {
    let row = query("INSERT INTO operators (name, created_at) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(millis(now))
        .fetch_one(conn)
        .await?;
    Ok(Operator {
        id: row.try_get(0)?,
        name: name.to_owned(),
        wallets_enabled: false,
        driver_signup: false,
        created_at: now,
    })
}

fn operator(row: Row) -> Result<Operator> {
    Ok(Operator {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        wallets_enabled: row.try_get::<i64, _>("wallets_enabled")? != 0,
        driver_signup: row.try_get::<i64, _>("driver_signup")? != 0,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

const SELECT_OPERATOR: &str = "SELECT id, name, wallets_enabled, driver_signup, created_at FROM operators";

pub async fn list_operators(conn: &mut Conn) -> Result<Vec<Operator>> {
    query(format!("{SELECT_OPERATOR} ORDER BY id")).fetch_all(conn).await?.into_iter().map(operator).collect()
}

pub async fn get_operator(conn: &mut Conn, id: i64) -> Result<Option<Operator>> {
    query(format!("{SELECT_OPERATOR} WHERE id = $1")).bind(id).fetch_optional(conn).await?.map(operator).transpose()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    pub id: i64,
    pub operator_id: i64,
    pub name: String,
    /// IANA time zone the site's tariffs are evaluated in, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewSite {
    pub operator_id: i64,
    pub name: String,
    pub time_zone: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
    pub city: Option<String>,
}

pub async fn create_site(conn: &mut Conn, new: NewSite, now: Timestamp) -> Result<Site> {
    let row = query(
        "INSERT INTO sites (operator_id, name, time_zone, latitude, longitude, address, city, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.operator_id)
    .bind(&new.name)
    .bind(&new.time_zone)
    .bind(new.latitude)
    .bind(new.longitude)
    .bind(&new.address)
    .bind(&new.city)
    .bind(millis(now))
    .fetch_one(conn)
    .await?;
    Ok(Site {
        id: row.try_get(0)?,
        operator_id: new.operator_id,
        name: new.name,
        time_zone: new.time_zone,
        latitude: new.latitude,
        longitude: new.longitude,
        address: new.address,
        city: new.city,
        created_at: now,
    })
}

pub(crate) fn site(row: &Row) -> Result<Site> {
    Ok(Site {
        id: row.try_get("id")?,
        operator_id: row.try_get("operator_id")?,
        name: row.try_get("name")?,
        time_zone: row.try_get("time_zone")?,
        latitude: row.try_get("latitude")?,
        longitude: row.try_get("longitude")?,
        address: row.try_get("address")?,
        city: row.try_get("city")?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

/// Sites of one operator, or of all when `operator_id` is `None`.
pub async fn list_sites(conn: &mut Conn, operator_id: Option<i64>) -> Result<Vec<Site>> {
    query(
        "SELECT id, operator_id, name, time_zone, latitude, longitude, address, city, created_at FROM sites \
         WHERE ($1 IS NULL OR operator_id = $1) ORDER BY id",
    )
    .bind(operator_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| site(&row))
    .collect()
}

pub async fn get_site(conn: &mut Conn, id: i64) -> Result<Option<Site>> {
    query(
        "SELECT id, operator_id, name, time_zone, latitude, longitude, address, city, created_at FROM sites WHERE id = $1",
    )
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|row| site(&row))
        .transpose()
}

/// Whether the operator keeps refundable wallet balances for its drivers.
pub async fn wallets_enabled(conn: &mut Conn, id: i64) -> Result<bool> {
    let row = query("SELECT wallets_enabled FROM operators WHERE id = $1").bind(id).fetch_optional(conn).await?;
    Ok(row.map(|r| r.try_get::<i64, _>("wallets_enabled")).transpose()?.unwrap_or(0) != 0)
}

pub async fn set_wallets_enabled(conn: &mut Conn, id: i64, enabled: bool) -> Result<bool> {
    let changed = query("UPDATE operators SET wallets_enabled = $2 WHERE id = $1")
        .bind(id)
        .bind(i64::from(enabled))
        .execute(conn)
        .await?;
    Ok(changed > 0)
}

/// The operator new app sign-ups belong to, if sign-up is open.
pub async fn signup_operator(conn: &mut Conn) -> Result<Option<Operator>> {
    query(format!("{SELECT_OPERATOR} WHERE driver_signup <> 0")).fetch_optional(conn).await?.map(operator).transpose()
}

/// Opens app sign-up for operator `id` (closing it for every other) or closes it; false when there
/// is no such operator.
pub async fn set_driver_signup(conn: &mut Conn, id: i64, open: bool) -> Result<bool> {
    if open {
        query("UPDATE operators SET driver_signup = 0 WHERE id <> $1").bind(id).execute(&mut *conn).await?;
    }
    let changed = query("UPDATE operators SET driver_signup = $2 WHERE id = $1")
        .bind(id)
        .bind(i64::from(open))
        .execute(conn)
        .await?;
    Ok(changed > 0)
}

/// Renames an operator; false when there is none with this id.
pub async fn rename_operator(conn: &mut Conn, id: i64, name: &str) -> Result<bool> {
    Ok(query("UPDATE operators SET name = $2 WHERE id = $1").bind(id).bind(name).execute(conn).await? > 0)
}

/// Deletes an operator; the database refuses while anything still belongs to it.
pub async fn delete_operator(conn: &mut Conn, id: i64) -> Result<bool> {
    Ok(query("DELETE FROM operators WHERE id = $1").bind(id).execute(conn).await? > 0)
}

/// Stores a site's changed name, time zone, location, address and city.
pub async fn update_site(conn: &mut Conn, site: &Site) -> Result<bool> {
    let changed = query(
        "UPDATE sites SET name = $2, time_zone = $3, latitude = $4, longitude = $5, address = $6, city = $7 \
         WHERE id = $1",
    )
    .bind(site.id)
    .bind(&site.name)
    .bind(&site.time_zone)
    .bind(site.latitude)
    .bind(site.longitude)
    .bind(&site.address)
    .bind(&site.city)
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// Deletes a site; the database refuses while chargers stand at it.
pub async fn delete_site(conn: &mut Conn, id: i64) -> Result<bool> {
    Ok(query("DELETE FROM sites WHERE id = $1").bind(id).execute(conn).await? > 0)
}
