//! A demonstration fleet registered in the node's own store: one operator, one site priced by a
//! real time-of-use tariff (Guangdong's shape), simulated chargers and the cards their drivers tap.
//! Idempotent, so a restarted demo finds its fleet again.

use chargemesh_core::charger::Registration;
use chargemesh_store::chargers::{self, NewCharger};
use chargemesh_store::operators::{self, NewSite};
use chargemesh_store::tariffs::{self, Target};
use chargemesh_store::tokens::{self, Token};
use chargemesh_store::{Conn, Store, StoreError};
use jiff::Timestamp;

pub const DEMO_OPERATOR: &str = "Demo Charging Co.";
/// The fleet's tariff, assigned to its site.
pub const DEMO_TARIFF: &str = "demo-gd-tou";

/// The station ids and card ids of a demo fleet of `size` chargers.
pub fn demo_fleet(size: usize) -> (Vec<String>, Vec<String>) {
    let stations = (1..=size).map(|i| format!("SIM-{i:04}")).collect();
    let cards = (1..=size).map(|i| format!("DEMO-CARD-{i:04}")).collect();
    (stations, cards)
}

pub async fn provision_demo_fleet(store: &Store, size: usize) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let now = Timestamp::now();
    let (stations, cards) = demo_fleet(size);
    let fleet = (stations.clone(), cards.clone());
    store.write(move |tx| Box::pin(provision(tx, fleet, now))).await?;
    Ok((stations, cards))
}

async fn provision(
    tx: &mut Conn,
    (stations, cards): (Vec<String>, Vec<String>),
    now: Timestamp,
) -> Result<(), StoreError> {
    let operator = match operators::list_operators(&mut *tx).await?.into_iter().find(|o| o.name == DEMO_OPERATOR) {
        Some(operator) => operator,
        None => operators::create_operator(&mut *tx, DEMO_OPERATOR, now).await?,
    };
    let site = match operators::list_sites(&mut *tx, Some(operator.id)).await?.into_iter().next() {
        Some(site) => site,
        None => {
            let new = NewSite {
                operator_id: operator.id,
                name: "Futian demo hub".into(),
                time_zone: "Asia/Shanghai".into(),
                latitude: Some(22.5431),
                longitude: Some(114.0579),
                address: Some("Futian District".into()),
                city: Some("Shenzhen".into()),
            };
            operators::create_site(&mut *tx, new, now).await?
        }
    };
    if tariffs::latest(&mut *tx, DEMO_TARIFF).await?.is_none() {
        let mut preset = chargemesh_sim::datasets::guangdong_tou();
        preset.id = DEMO_TARIFF.into();
        preset.version = 1;
        preset.owner = operator.id.to_string();
        preset.valid_from = now;
        // A fixed fixture that the sim crate's own tests build.
        let tariff = preset.build().expect("the Guangdong time-of-use fixture builds");
        tariffs::insert_version(&mut *tx, operator.id, &tariff, now).await?;
    }
    let site_target = Target::Site(site.id);
    if tariffs::assigned(&mut *tx, &site_target).await?.is_none() {
        tariffs::assign(&mut *tx, &site_target, operator.id, DEMO_TARIFF, now).await?;
    }
    for station in &stations {
        if chargers::get_charger(&mut *tx, station).await?.is_none() {
            let new = NewCharger {
                station_id: station.clone(),
                operator_id: Some(operator.id),
                site_id: Some(site.id),
                registration: Registration::Accepted,
                auth_key_hash: None,
            };
            chargers::create_charger(&mut *tx, &new, now).await?;
        }
    }
    for card in &cards {
        if tokens::get_token(&mut *tx, card).await?.is_none() {
            let token = Token {
                id_token: card.clone(),
                operator_id: operator.id,
                kind: "card".into(),
                status: chargemesh_core::authorization::TokenStatus::Active,
                expires_at: None,
                parent_id_token: None,
                label: Some("demo driver".into()),
                payment_method: None,
                emsp_party: None,
                driver_id: None,
                created_at: now,
            };
            tokens::upsert_token(&mut *tx, &token).await?;
        }
    }
    Ok(())
}
