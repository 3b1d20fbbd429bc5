//! The dashboard's overview of an operator's network (or the member's, for its roles): how many
//! chargers are online, charging, faulted or offline, what today brought (sessions, energy,
//! revenue), and what needs someone: connectors reporting errors and drivers who owe money. One
//! call, computed on the node, so that a console watching ten thousand chargers downloads a few
//! numbers rather than the fleet.

use super::charger_admin::ManagedCharger;
use super::{Operations, Outcome};
use chargemesh_core::access::Scope;
use chargemesh_store::chargers::ConnectorState;
use chargemesh_store::payments::{self, Payment};
use chargemesh_store::sessions::{self, DayTotals};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// How many chargers are in each condition; each charger counts once, by its worst.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FleetCounts {
    pub online: i64,
    pub charging: i64,
    pub faulted: i64,
    pub offline: i64,
}

/// A connector reporting an error.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorFault {
    pub station_id: String,
    pub connector_id: i64,
    /// The charger's error code, or its status when it gave none.
    pub error: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Overview {
    pub fleet: FleetCounts,
    /// Since the start of today in the zone asked for.
    pub day_started_at: Timestamp,
    pub today: DayTotals,
    /// The newest faults, at most [`LISTED`].
    pub faults: Vec<ConnectorFault>,
    pub fault_count: i64,
    /// The newest payments owing, at most [`LISTED`].
    pub owing: Vec<Payment>,
    pub owing_count: i64,
}

/// How many faults and payments owing the overview lists; it counts them all.
pub const LISTED: usize = 10;

const FAULTED: &str = "Faulted";

/// The connectors of charger `station_id` that report an error.
fn faults_of<'a>(station_id: &'a str, connectors: &'a [ConnectorState]) -> impl Iterator<Item = ConnectorFault> + 'a {
    connectors
        .iter()
        .filter(|c| c.status == FAULTED || c.error_code.as_deref().is_some_and(|code| code != "NoError"))
        .map(move |c| ConnectorFault {
            station_id: station_id.to_owned(),
            connector_id: c.connector_id,
            error: c.error_code.clone().filter(|code| code != "NoError").unwrap_or_else(|| c.status.clone()),
            at: c.status_at,
        })
}

/// A charger's condition: offline when not connected, faulted when a connector reports Faulted,
/// charging when one charges, online otherwise.
fn count_in<'a>(counts: &'a mut FleetCounts, connected: bool, connectors: &[ConnectorState]) -> &'a mut i64 {
    let has = |status: &str| connectors.iter().any(|c| c.status == status);
    if !connected {
        &mut counts.offline
    } else if has(FAULTED) {
        &mut counts.faulted
    } else if has("Charging") {
        &mut counts.charging
    } else {
        &mut counts.online
    }
}

fn count_fleet(chargers: &[ManagedCharger]) -> FleetCounts {
    let mut counts = FleetCounts::default();
    for charger in chargers {
        *count_in(&mut counts, charger.connected, &charger.connectors) += 1;
    }
    counts
}

impl Operations {
    /// The overview of the chargers within `scope`, "today" beginning at midnight in `zone`.
    pub async fn overview(&self, scope: Scope, zone: TimeZone) -> Outcome<Overview> {
        let day_started_at = self
            .now()
            .to_zoned(zone)
            .start_of_day()
            .map_err(|e| super::Error::invalid(format!("today has no start in that time zone: {e}")))?;
        let day_started_at = day_started_at.timestamp();
        let chargers = self.managed_chargers(scope).await?;
        let (today, (owing, owing_count)) = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let today = sessions::totals_since(&mut *conn, scope, day_started_at).await?;
                    let owing = payments::owing(&mut *conn, scope, LISTED as i64).await?;
                    Ok((today, owing))
                })
            })
            .await?;
        let mut faults: Vec<ConnectorFault> =
            chargers.iter().flat_map(|c| faults_of(&c.charger.station_id, &c.connectors)).collect();
        faults.sort_by_key(|fault| std::cmp::Reverse(fault.at));
        let fault_count = faults.len() as i64;
        faults.truncate(LISTED);
        Ok(Overview { fleet: count_fleet(&chargers), day_started_at, today, faults, fault_count, owing, owing_count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connectors(of: &[(&str, Option<&str>)]) -> Vec<ConnectorState> {
        let at: Timestamp = "2026-12-06T08:00:00Z".parse().unwrap();
        of.iter()
            .enumerate()
            .map(|(i, (status, error))| ConnectorState {
                connector_id: i as i64 + 1,
                status: (*status).into(),
                error_code: error.map(str::to_owned),
                info: None,
                vendor_error_code: None,
                status_at: at + jiff::SignedDuration::from_secs(i as i64),
            })
            .collect()
    }

    #[test]
    fn each_charger_counts_once_by_its_worst_and_errors_are_listed() {
        let fleet = [
            ("A", false, connectors(&[("Faulted", Some("GroundFailure"))])),
            ("B", true, connectors(&[("Charging", None), ("Faulted", Some("OverVoltage"))])),
            ("C", true, connectors(&[("Available", Some("NoError")), ("Charging", None)])),
            ("D", true, connectors(&[("Available", Some("HighTemperature"))])),
        ];
        let mut counts = FleetCounts::default();
        for (_, connected, connectors) in &fleet {
            *count_in(&mut counts, *connected, connectors) += 1;
        }
        assert_eq!(counts, FleetCounts { online: 1, charging: 1, faulted: 1, offline: 1 });
        let faults: Vec<(String, String)> =
            fleet.iter().flat_map(|(s, _, c)| faults_of(s, c)).map(|f| (f.station_id, f.error)).collect();
        assert_eq!(
            faults,
            [
                ("A".into(), "GroundFailure".into()),
                ("B".into(), "OverVoltage".into()),
                ("D".into(), "HighTemperature".into())
            ]
        );
    }
}
