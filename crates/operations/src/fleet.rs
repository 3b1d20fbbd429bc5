//! An operator's fleet as its console lists it: a page at a time, searched and filtered by
//! condition on the node, so that a console watching ten thousand chargers reads fifty.

use super::charger_admin::ManagedCharger;
use super::{Operations, Outcome};
use chargemesh_core::access::Scope;
use chargemesh_core::fleet::{Condition, FleetCounts};
use chargemesh_store::chargers::{self, ChargerBrief};

/// Which chargers a page of the fleet shows.
#[derive(Debug, Clone, Default)]
pub struct FleetQuery {
    /// Text the station id, vendor, model or site name contains.
    pub matching: Option<String>,
    pub condition: Option<Condition>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug)]
pub struct FleetPage {
    /// The chargers matching the text, counted by condition (whatever condition was asked for).
    pub counts: FleetCounts,
    /// How many match the text and the condition; the page is a slice of them, in station order.
    pub total: usize,
    pub chargers: Vec<ManagedCharger>,
}

impl Operations {
    fn condition_of(&self, brief: &ChargerBrief) -> Condition {
        Condition::of(self.is_connected(&brief.station_id), brief.faulted, brief.charging)
    }

    /// Each charger within `scope` (matching the text, when given) with its condition, in station order.
    pub(crate) async fn conditions(&self, scope: Scope, matching: Option<String>) -> Outcome<Vec<(String, Condition)>> {
        let briefs = self
            .store
            .read(move |conn| Box::pin(async move { chargers::charger_briefs(conn, scope, matching.as_deref()).await }))
            .await?;
        Ok(briefs
            .into_iter()
            .map(|brief| {
                let condition = self.condition_of(&brief);
                (brief.station_id, condition)
            })
            .collect())
    }

    /// One page of the chargers within `scope`, with live status.
    pub async fn fleet_page(&self, scope: Scope, query: FleetQuery) -> Outcome<FleetPage> {
        let matching = query.matching.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
        let mut counts = FleetCounts::default();
        let mut chosen = Vec::new();
        for (station_id, condition) in self.conditions(scope, matching).await? {
            counts.add(condition);
            if query.condition.is_none_or(|wanted| wanted == condition) {
                chosen.push(station_id);
            }
        }
        let total = chosen.len();
        let page: Vec<String> = chosen.into_iter().skip(query.offset).take(query.limit).collect();
        let chargers = self
            .store
            .read(move |conn| Box::pin(async move { chargers::chargers_named(conn, &page).await }))
            .await?
            .into_iter()
            .map(|(charger, connectors)| self.live(charger, connectors))
            .collect();
        Ok(FleetPage { counts, total, chargers })
    }
}
