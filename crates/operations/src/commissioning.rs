//! Commissioning a charger: what the consortium ledger is told it is (EVSE id, power, connectors,
//! metering certificate) and its meter's calibration. The identity is fixed once saved; only the
//! calibration changes, until the charger is decommissioned for good.

use super::changes::Change;
use super::{Error, Operations, Outcome};
use chargemesh_ledger::state::{check_evse_id, check_text};
use chargemesh_ledger::transaction::ConnectorType;
use chargemesh_store::chargers::Charger;
use chargemesh_store::commissioning::{self, Commissioning};
use jiff::Timestamp;

/// What an operator says a charger is when commissioning it or renewing its calibration.
#[derive(Debug)]
pub struct CommissioningTerms {
    /// By default `<country>*<party>*E<station id>` of this member.
    pub evse_id: Option<String>,
    pub max_power_watts: u64,
    pub connectors: Vec<ConnectorType>,
    pub metering_certificate: String,
    pub calibration_certificate: String,
    pub calibration_expires_at: Timestamp,
}

fn invalid(rejection: chargemesh_ledger::Rejection) -> Error {
    Error::invalid(rejection.to_string())
}

/// The EVSE id a charger gets when none is given: this member's party id (`CN-NGR`) and the station id.
fn default_evse_id(party_id: Option<&str>, station_id: &str) -> Outcome<String> {
    let Some(party_id) = party_id else {
        return Err(Error::invalid("evse_id is required when the node does not run the ledger"));
    };
    let (country, party) = party_id.split_once('-').unwrap_or(("CN", party_id));
    Ok(format!("{country}*{party}*E{station_id}"))
}

fn connector_name(connector: &ConnectorType) -> String {
    serde_json::to_value(connector)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("connector names are strings")
}

/// The commissioning record `terms` describe, checked as the ledger will check it.
fn record(
    station_id: &str,
    terms: CommissioningTerms,
    party_id: Option<&str>,
    now: Timestamp,
) -> Outcome<Commissioning> {
    let evse_id = match terms.evse_id {
        Some(evse_id) => evse_id,
        None => default_evse_id(party_id, station_id)?,
    };
    check_evse_id(&evse_id).map_err(invalid)?;
    check_text("metering_certificate", &terms.metering_certificate, 128).map_err(invalid)?;
    check_text("calibration_certificate", &terms.calibration_certificate, 128).map_err(invalid)?;
    if !(1..=2_000_000).contains(&terms.max_power_watts) {
        return Err(Error::invalid("max_power_watts must be from 1 W to 2 MW"));
    }
    if !(1..=16).contains(&terms.connectors.len()) {
        return Err(Error::invalid("connectors: 1 to 16 connector types"));
    }
    if terms.calibration_expires_at <= now {
        return Err(Error::invalid(
            "calibration_expires_at has passed: a charger with a lapsed calibration bills nobody",
        ));
    }
    Ok(Commissioning {
        station_id: station_id.to_owned(),
        evse_id,
        max_power_watts: i64::try_from(terms.max_power_watts).unwrap_or(i64::MAX),
        connectors: terms.connectors.iter().map(connector_name).collect(),
        metering_certificate: terms.metering_certificate,
        calibration_certificate: terms.calibration_certificate,
        calibration_expires_at: terms.calibration_expires_at,
        commissioned_at: now,
        decommissioned_at: None,
    })
}

/// What saving `wanted` over `previous` makes of the record, unless the rules forbid it.
fn renewed(previous: Option<Commissioning>, wanted: Commissioning) -> Result<Commissioning, Error> {
    match previous {
        Some(old) if old.decommissioned_at.is_some() => Err(Error::conflict("the charger was decommissioned for good")),
        Some(old) => {
            let same_identity = old.evse_id == wanted.evse_id
                && old.max_power_watts == wanted.max_power_watts
                && old.connectors == wanted.connectors
                && old.metering_certificate == wanted.metering_certificate;
            if !same_identity {
                return Err(Error::conflict(
                    "the charger's identity is fixed once commissioned; only its calibration changes",
                ));
            }
            Ok(Commissioning { commissioned_at: old.commissioned_at, ..wanted })
        }
        None => Ok(wanted),
    }
}

impl Operations {
    /// Commissions a charger, or renews its calibration; `party_id` is this member's on the ledger,
    /// if the node runs one. Returns the record before and after.
    pub async fn commission_charger(
        &self,
        charger: &Charger,
        terms: CommissioningTerms,
        party_id: Option<&str>,
    ) -> Outcome<(Option<Commissioning>, Commissioning)> {
        let now = self.now();
        if charger.operator_id.is_none() {
            return Err(Error::invalid("assign the charger to an operator before commissioning it"));
        }
        let wanted = record(&charger.station_id, terms, party_id, now)?;
        let outcome = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let previous = commissioning::get(&mut *tx, &wanted.station_id).await?;
                    if previous.is_none()
                        && let Some(other) = commissioning::by_evse(&mut *tx, &wanted.evse_id).await?
                    {
                        return Ok(Err(Error::conflict(format!(
                            "EVSE id {} belongs to charger {}",
                            wanted.evse_id, other.station_id
                        ))));
                    }
                    let record = match renewed(previous.clone(), wanted) {
                        Ok(record) => record,
                        Err(e) => return Ok(Err(e)),
                    };
                    commissioning::save(tx, &record).await?;
                    Ok(Ok((previous, record)))
                })
            })
            .await?;
        self.note(Change::Station(&charger.station_id));
        outcome
    }

    /// A charger's commissioning record.
    pub async fn charger_commissioning(&self, station_id: &str) -> Outcome<Commissioning> {
        let wanted = station_id.to_owned();
        self.store
            .read(move |conn| Box::pin(async move { commissioning::get(conn, &wanted).await }))
            .await?
            .ok_or_else(|| Error::not_found(format!("commissioning of charger {station_id:?}")))
    }

    /// Takes a charger out of service for good; returns its record before and after.
    pub async fn decommission_charger(&self, station: &str) -> Outcome<(Commissioning, Commissioning)> {
        let now = self.now();
        let station_id = station.to_owned();
        let outcome = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let record = match commissioning::get(&mut *tx, &station_id).await? {
                        None => {
                            return Ok(Err(Error::not_found(format!("commissioning of charger {station_id:?}"))));
                        }
                        Some(old) if old.decommissioned_at.is_some() => {
                            return Ok(Err(Error::conflict("the charger was decommissioned already")));
                        }
                        Some(old) => old,
                    };
                    let decommissioned = Commissioning { decommissioned_at: Some(now), ..record.clone() };
                    commissioning::save(tx, &decommissioned).await?;
                    Ok(Ok((record, decommissioned)))
                })
            })
            .await?;
        self.note(Change::Station(station));
        outcome
    }
}
