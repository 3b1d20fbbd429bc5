//! Driver accounts: made by their operator's staff with an app token of their own, blocked or
//! given a new password, and their logins to the driver API.

use super::login_throttle::{Realm, account_subject};
use super::{Error, Operations, Outcome, passwords};
use chargemesh_core::access::Scope;
use chargemesh_store::drivers::{self, Driver, DriverStatus};
use chargemesh_store::logins;
use chargemesh_store::tokens::{self, Token};
use jiff::Timestamp;

/// What a new driver account is.
pub struct NewDriverAccount {
    pub operator_id: i64,
    /// What the driver logs in with, unique on this node.
    pub username: String,
    pub password_hash: String,
    pub name: Option<String>,
    /// How the charges of its app token are paid.
    pub payment_method: Option<String>,
}

/// The token a new driver account charges with from the app: `APP` and 16 characters.
pub(crate) fn app_token(driver: &Driver, payment_method: Option<String>, now: Timestamp) -> Token {
    Token {
        id_token: format!("APP{}", hex::encode_upper(rand::random::<[u8; 8]>())),
        operator_id: driver.operator_id,
        kind: "app".into(),
        status: chargemesh_core::authorization::TokenStatus::Active,
        expires_at: None,
        parent_id_token: None,
        label: Some(format!("app account of {}", driver.username)),
        payment_method,
        emsp_party: None,
        driver_id: Some(driver.id),
        created_at: now,
    }
}

impl Operations {
    /// Creates a driver account with an app token of its own (`APP` and 16 characters); a taken
    /// username is a conflict, an unknown operator not found.
    pub async fn create_driver(&self, new: NewDriverAccount) -> Outcome<(Driver, Token)> {
        let now = self.now();
        let operator_id = new.operator_id;
        let created = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let NewDriverAccount { operator_id, username, password_hash, name, payment_method } = new;
                    let driver =
                        drivers::create_driver(&mut *tx, operator_id, &username, &password_hash, name.as_deref(), now)
                            .await?;
                    let token = app_token(&driver, payment_method, now);
                    tokens::upsert_token(tx, &token).await?;
                    Ok((driver, token))
                })
            })
            .await;
        match created {
            Err(e) if e.is_unique_violation() => Err(Error::conflict("this username is taken")),
            Err(e) if e.is_foreign_key_violation() => Err(Error::not_found(format!("operator {operator_id}"))),
            other => Ok(other?),
        }
    }

    /// The driver accounts of `scope` (every account for `None`).
    pub async fn list_drivers(&self, scope: Scope) -> Outcome<Vec<Driver>> {
        Ok(self.store.read(move |conn| Box::pin(drivers::list_drivers(conn, scope))).await?)
    }

    /// Driver account `id`, if it exists.
    pub async fn driver(&self, id: i64) -> Outcome<Option<Driver>> {
        Ok(self.store.read(move |conn| Box::pin(drivers::get_driver(conn, id))).await?)
    }

    /// The tokens driver `driver_id` charges with; the first is the app token made with the account.
    pub async fn tokens_of_driver(&self, driver_id: i64) -> Outcome<Vec<Token>> {
        Ok(self.store.read(move |conn| Box::pin(tokens::tokens_of_driver(conn, driver_id))).await?)
    }

    /// Sets a driver's status (which lifts the account's wait after wrong passwords) and password,
    /// each if given, in one transaction.
    pub async fn update_driver(
        &self,
        driver: &Driver,
        status: Option<DriverStatus>,
        password_hash: Option<String>,
    ) -> Outcome<Driver> {
        let id = driver.id;
        let account = account_subject(Realm::Driver, &driver.username);
        let changed = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(status) = status {
                        drivers::set_status(&mut *tx, id, status).await?;
                        logins::forget(&mut *tx, std::slice::from_ref(&account)).await?;
                    }
                    if let Some(hash) = &password_hash {
                        drivers::set_password(&mut *tx, id, hash, None).await?;
                    }
                    drivers::get_driver(tx, id).await
                })
            })
            .await?;
        changed.ok_or_else(|| Error::not_found(format!("driver {id}")))
    }

    /// The active driver whose login has the digest `secret_digest` at `now`.
    pub async fn driver_of_credential(&self, secret_digest: String, now: Timestamp) -> Outcome<Option<Driver>> {
        Ok(self
            .store
            .read(move |conn| Box::pin(async move { drivers::driver_by_credential(conn, &secret_digest, now).await }))
            .await?)
    }

    /// The driver account named `username`, if it exists.
    pub async fn driver_named(&self, username: String) -> Outcome<Option<Driver>> {
        Ok(self
            .store
            .read(move |conn| Box::pin(async move { drivers::driver_by_username(conn, &username).await }))
            .await?)
    }

    /// Opens a login of driver `driver_id` until `expires_at`; answers its secret, shown once.
    pub async fn open_driver_login(&self, driver_id: i64, expires_at: Timestamp, now: Timestamp) -> Outcome<String> {
        let token = passwords::random_secret("cmd_");
        let digest = passwords::digest(&token);
        self.store
            .write(move |tx| {
                Box::pin(async move { drivers::add_credential(tx, &digest, driver_id, expires_at, now).await })
            })
            .await?;
        Ok(token)
    }

    /// Ends the driver login whose secret has the digest `secret_digest`.
    pub async fn end_driver_login(&self, secret_digest: String) -> Outcome<()> {
        self.store
            .write(move |tx| Box::pin(async move { drivers::revoke_credential(tx, &secret_digest).await }))
            .await?;
        Ok(())
    }

    /// Sets driver `id`'s password; their logins end but the one with the digest `keep`.
    pub async fn set_driver_password(&self, id: i64, password_hash: String, keep: Option<String>) -> Outcome<()> {
        self.store
            .write(move |tx| {
                Box::pin(async move { drivers::set_password(tx, id, &password_hash, keep.as_deref()).await })
            })
            .await?;
        Ok(())
    }
}
