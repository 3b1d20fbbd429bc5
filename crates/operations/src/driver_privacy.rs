//! A driver's rights over their personal data (China's PIPL): everything this node holds about
//! them, and closing their account so that nothing personal stays. Closing renames each of its
//! tokens to a random anonymous id wherever accounting must keep the charge.

use super::{Error, Operations, Outcome};
use chargemesh_store::Conn;
use chargemesh_store::drivers::{self, Driver, DriverStatus, Login};
use chargemesh_store::favourites::{self, Favourite};
use chargemesh_store::federation::{self, RoamingStart};
use chargemesh_store::payments::{self, Movement, Payment};
use chargemesh_store::sessions::{self, Session, SessionFilter};
use chargemesh_store::settlements::{self, Settlement};
use chargemesh_store::tokens::{self, Token};

/// What this node records of a driver, besides the account itself.
pub struct DriverRecords {
    /// The tokens they charge with (the app token, cards).
    pub tokens: Vec<Token>,
    /// Their logins that have not ended.
    pub logins: Vec<Login>,
    /// Their charges at this member's chargers, with every meter value.
    pub sessions: Vec<Session>,
    /// What those charges were paid with.
    pub payments: Vec<Payment>,
    /// Their charges at other members' chargers.
    pub roaming_charges: Vec<RoamingStart>,
    /// What they paid for those.
    pub roaming_settlements: Vec<Settlement>,
    /// Their wallets' journal.
    pub wallet_movements: Vec<Movement>,
    /// The chargers they marked in the app.
    pub favourites: Vec<Favourite>,
}

impl Operations {
    /// Everything this node records of driver `id`, read at one moment.
    pub async fn driver_records(&self, id: i64) -> Outcome<DriverRecords> {
        Ok(self.store.read(move |conn| Box::pin(async move { records_of(conn, id).await })).await?)
    }

    /// Closes a driver's account for good, leaving nothing personal; answers each of its tokens
    /// with the anonymous id it was renamed to. Refused (a conflict) while a charge runs or is not
    /// settled, money is owed, or a wallet holds money.
    pub async fn close_driver_account(&self, driver: &Driver) -> Outcome<Vec<(String, String)>> {
        if driver.status == DriverStatus::Closed {
            return Err(Error::conflict("the account is closed already"));
        }
        let id = driver.id;
        let tokens = self.tokens_of_driver(id).await?;
        // Random: nothing derived from the token, so that nobody can tell whose it was.
        let renamed: Vec<(String, String)> = tokens
            .iter()
            .map(|t| (t.id_token.clone(), format!("ANON-{}", hex::encode_upper(rand::random::<[u8; 10]>()))))
            .collect();
        let to_rename = renamed.clone();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(obstacle) = obstacle(&mut *tx, id, &tokens).await? {
                        return Ok(Err(Error::conflict(obstacle)));
                    }
                    drivers::close_account(tx, id, &to_rename).await?;
                    Ok(Ok(()))
                })
            })
            .await??;
        tracing::info!(driver = id, "a driver's account was closed at their request");
        Ok(renamed)
    }
}

async fn records_of(conn: &mut Conn, id: i64) -> chargemesh_store::Result<DriverRecords> {
    let tokens = tokens::tokens_of_driver(&mut *conn, id).await?;
    let filter = SessionFilter { driver_id: Some(id), limit: i64::MAX, ..SessionFilter::default() };
    let sessions = sessions::list_sessions(&mut *conn, &filter).await?;
    let mut payments = Vec::new();
    for session in &sessions {
        payments.extend(payments::payment_of_session(&mut *conn, session.id).await?);
    }
    let roaming_charges = federation::starts_of_driver(&mut *conn, id, None, i64::MAX).await?;
    let mut roaming_settlements = Vec::new();
    for start in &roaming_charges {
        roaming_settlements.extend(settlements::of_start(&mut *conn, &start.id).await?);
    }
    let mut wallet_movements = Vec::new();
    for token in &tokens {
        wallet_movements.extend(payments::movements_of(&mut *conn, &wallet(&token.id_token)).await?);
    }
    let favourites = favourites::of_driver(&mut *conn, id).await?;
    let logins = drivers::logins_of(conn, id).await?;
    Ok(DriverRecords {
        tokens,
        logins,
        sessions,
        payments,
        roaming_charges,
        roaming_settlements,
        wallet_movements,
        favourites,
    })
}

fn wallet(id_token: &str) -> String {
    crate::payments::wallet_account(id_token)
}

/// Why the account cannot be closed now, if it cannot.
async fn obstacle(conn: &mut Conn, id: i64, tokens: &[Token]) -> chargemesh_store::Result<Option<String>> {
    let running = SessionFilter {
        driver_id: Some(id),
        state: Some(sessions::SessionState::Active),
        limit: 1,
        ..SessionFilter::default()
    };
    if !sessions::list_sessions(&mut *conn, &running).await?.is_empty() {
        return Ok(Some("a charge is running: stop it first".into()));
    }
    let filter = SessionFilter { driver_id: Some(id), limit: i64::MAX, ..SessionFilter::default() };
    for session in sessions::list_sessions(&mut *conn, &filter).await? {
        if payments::payment_of_session(&mut *conn, session.id)
            .await?
            .is_some_and(|p| p.state == payments::PaymentState::Owing)
        {
            return Ok(Some(format!("charge {} is not paid yet: pay what is owed first", session.id)));
        }
    }
    for start in federation::starts_of_driver(&mut *conn, id, None, i64::MAX).await? {
        let settlement = settlements::of_start(&mut *conn, &start.id).await?;
        let settled = settlement.as_ref().is_some_and(|s| s.state.is_settled());
        if !settled && !start.state.came_to_nothing() {
            return Ok(Some(format!(
                "the charge at {}'s charger is not settled yet: close the account once it is",
                start.cpo
            )));
        }
    }
    for token in tokens {
        let movements = payments::movements_of(&mut *conn, &wallet(&token.id_token)).await?;
        let mut currencies: Vec<String> = movements.into_iter().map(|m| m.currency).collect();
        currencies.sort();
        currencies.dedup();
        for currency in currencies {
            let balance = payments::balance(&mut *conn, &wallet(&token.id_token), &currency).await?;
            if balance != 0 {
                return Ok(Some(format!(
                    "the wallet holds {balance} ({currency}, minor units): withdraw it first, it is yours"
                )));
            }
        }
    }
    Ok(None)
}
