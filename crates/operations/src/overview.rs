//! The dashboard's overview of an operator's network (or the member's, for its roles): how many
//! chargers are online, charging, faulted or offline, what today brought (sessions, energy,
//! revenue), and what needs someone: connectors reporting errors and drivers who owe money. One
//! call, computed on the node, so that a console watching ten thousand chargers downloads a few
//! numbers rather than the fleet.

use super::{Operations, Outcome};
use chargemesh_core::access::Scope;
use chargemesh_core::fleet::FleetCounts;
use chargemesh_store::chargers::{self, ConnectorState};
use chargemesh_store::payments::{self, Payment};
use chargemesh_store::sessions::{self, DayTotals};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A connector reporting an error.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorFault {
    pub station_id: String,
    pub connector_id: i64,
    /// The charger's error code, or its status when it gave none.
    pub error: String,
    pub at: Timestamp,
}

impl ConnectorFault {
    fn of(station_id: String, connector: ConnectorState) -> ConnectorFault {
        let error = connector.error_code.filter(|code| code != "NoError").unwrap_or(connector.status);
        ConnectorFault { station_id, connector_id: connector.connector_id, error, at: connector.status_at }
    }
}

/// What the day brought so far and who owes money: sums over the day's sessions, read again by a
/// live dashboard at most every [`DAY_READ_EVERY`] (the fleet's counts, cheap, at every change).
#[derive(Debug, Clone)]
pub struct Day {
    /// The start of today in the zone asked for.
    pub started_at: Timestamp,
    pub read_at: Timestamp,
    pub totals: DayTotals,
    /// The newest payments owing, at most [`LISTED`].
    pub owing: Vec<Payment>,
    pub owing_count: i64,
}

#[derive(Debug, Clone)]
pub struct Overview {
    /// When the fleet was read.
    pub read_at: Timestamp,
    pub fleet: FleetCounts,
    /// The newest faults, at most [`LISTED`].
    pub faults: Vec<ConnectorFault>,
    pub fault_count: i64,
    pub day: Day,
}

/// How many faults and payments owing the overview lists; it counts them all.
pub const LISTED: usize = 10;

/// How long a live dashboard shows the day's figures before they are read again.
pub const DAY_READ_EVERY: SignedDuration = SignedDuration::from_secs(10);

/// The newest overview of each scope and time zone, shared by the live dashboards that show it: ten
/// open consoles cost the node one reading a second, not ten. (A few entries: one per operator and
/// zone that a console has shown.)
#[derive(Default)]
pub(crate) struct SharedOverviews(Mutex<HashMap<(Scope, String), Arc<NewestOverview>>>);

/// The newest overview of one scope and zone; held while it is read again, so that one dashboard
/// reads while the others wait for it.
type NewestOverview = tokio::sync::Mutex<Option<Overview>>;

impl Operations {
    /// The overview for a live dashboard that has taken every change noted before `not_before`: one
    /// read at or after that instant, shared with the other dashboards of the same scope and zone
    /// (one reads while the others wait for it), its day's figures at most [`DAY_READ_EVERY`] old.
    pub async fn live_overview(&self, scope: Scope, zone: TimeZone, not_before: Timestamp) -> Outcome<Overview> {
        let key = (scope, zone.iana_name().unwrap_or("UTC").to_owned());
        let slot = Arc::clone(self.shared_overviews.0.lock().expect("overviews lock").entry(key).or_default());
        let mut newest = slot.lock().await;
        if let Some(shared) = newest.as_ref().filter(|overview| overview.read_at >= not_before) {
            return Ok(shared.clone());
        }
        let fresh = self.overview_after(scope, zone, newest.take().map(|overview| overview.day)).await?;
        *newest = Some(fresh.clone());
        Ok(fresh)
    }

    /// The overview of the chargers within `scope`, "today" beginning at midnight in `zone`.
    pub async fn overview(&self, scope: Scope, zone: TimeZone) -> Outcome<Overview> {
        self.overview_after(scope, zone, None).await
    }

    /// The overview with the fleet read anew, the day's figures taken from `previous` while they are
    /// younger than [`DAY_READ_EVERY`] and of the same day.
    async fn overview_after(&self, scope: Scope, zone: TimeZone, previous: Option<Day>) -> Outcome<Overview> {
        let now = self.now();
        let day_started_at = now
            .to_zoned(zone)
            .start_of_day()
            .map_err(|e| super::Error::invalid(format!("today has no start in that time zone: {e}")))?
            .timestamp();
        let mut fleet = FleetCounts::default();
        for (_, condition) in self.conditions(scope, None).await? {
            fleet.add(condition);
        }
        let (fault_count, faults) =
            self.store.read(move |conn| Box::pin(chargers::connector_faults(conn, scope, LISTED as i64))).await?;
        let faults =
            faults.into_iter().map(|(station_id, connector)| ConnectorFault::of(station_id, connector)).collect();
        let day = match previous {
            Some(day) if day.started_at == day_started_at && now.duration_since(day.read_at) < DAY_READ_EVERY => day,
            _ => self.day(scope, day_started_at, now).await?,
        };
        Ok(Overview { read_at: now, fleet, faults, fault_count, day })
    }

    async fn day(&self, scope: Scope, started_at: Timestamp, now: Timestamp) -> Outcome<Day> {
        let (totals, (owing, owing_count)) = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let totals = sessions::totals_since(&mut *conn, scope, started_at).await?;
                    let owing = payments::owing(&mut *conn, scope, LISTED as i64).await?;
                    Ok((totals, owing))
                })
            })
            .await?;
        Ok(Day { started_at, read_at: now, totals, owing, owing_count })
    }
}
