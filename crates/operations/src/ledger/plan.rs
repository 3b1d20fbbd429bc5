//! What the ledger lacks of this member's data: the node's tariffs, commissioned chargers and
//! ended sessions compared with the ledger's state, as the transactions that would bring the ledger
//! up to date. Pure: the feed reads the node's data and submits the plan.

use chargemesh_core::tariff::Tariff;
use chargemesh_ledger::State;
use chargemesh_ledger::state::{CdrStatus, ChargerStatus};
use chargemesh_ledger::transaction::{
    Action, CdrAnchor, ChargerIdentity, ConnectorType, DisputeReason, LifecycleEvent,
};
use chargemesh_store::commissioning::CommissionedCharger;

/// Why something of the node's cannot go to the ledger yet: a stable code and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obstacle {
    pub code: &'static str,
    pub message: String,
}

/// A session's charge record ready to anchor, or what stops it.
pub struct PreparedAnchor {
    pub session_id: i64,
    pub cdr_id: String,
    pub anchor: Result<CdrAnchor, Obstacle>,
}

/// The node's side of the comparison.
pub struct NodeData {
    /// Every version of every tariff, by tariff id then version.
    pub tariffs: Vec<Tariff>,
    pub chargers: Vec<CommissionedCharger>,
    pub anchors: Vec<PreparedAnchor>,
    /// Other members' CDRs this member disputes: (the CPO, CDR id, reason).
    pub disputes: Vec<(String, String, DisputeReason)>,
}

/// One thing of the node's (a tariff, a charger, a charge) and the transactions it needs, in order.
pub struct Item {
    pub name: String,
    pub actions: Result<Vec<Action>, Obstacle>,
}

pub struct Plan {
    pub items: Vec<Item>,
    /// Sessions whose CDR the ledger holds: (session id, CDR id, height).
    pub on_ledger: Vec<(i64, String, u64)>,
}

/// How long after a clearing period may be closed any member closes it, if the member whose turn it
/// was has not (its node is down).
pub const CLOSE_FALLBACK_MS: i64 = 5 * 60_000;
/// The most clearing periods closed in one round (a consortium that was down for a long time).
const MAX_CLOSED_PER_ROUND: u64 = 1_000;

/// Tariffs first, then chargers, then charges, so that each transaction finds what it refers to;
/// then this member's disputes of other members' CDRs; last, the clearing periods that are due,
/// when it is this member's turn to close them.
pub fn plan(state: &State, party: &str, data: &NodeData, now_ms: i64) -> Plan {
    let mut items = tariff_items(state, party, &data.tariffs);
    items.extend(data.chargers.iter().filter_map(|charger| charger_item(state, party, charger, now_ms)));
    let mut on_ledger = Vec::new();
    for prepared in &data.anchors {
        match state.cdr(party, &prepared.cdr_id) {
            Some(entry) => on_ledger.push((prepared.session_id, prepared.cdr_id.clone(), entry.height)),
            None => items.push(Item {
                name: format!("cdr {}", prepared.cdr_id),
                actions: prepared.anchor.clone().map(|anchor| vec![Action::AnchorCdr(anchor)]),
            }),
        }
    }
    for (cpo, cdr_id, reason) in &data.disputes {
        if state.cdr(cpo, cdr_id).is_some_and(|entry| entry.status == CdrStatus::Anchored) {
            let dispute = Action::DisputeCdr { cpo: cpo.clone(), cdr_id: cdr_id.clone(), reason: *reason };
            items.push(Item { name: format!("dispute {cpo} {cdr_id}"), actions: Ok(vec![dispute]) });
        }
    }
    items.extend(clearing_item(state, party, now_ms));
    Plan { items, on_ledger }
}

/// The clearing periods due for closing. The active members take turns by period, so that one
/// member closes each (and all those due with it); any member does it once the latest due period
/// has been due for [`CLOSE_FALLBACK_MS`] (the member whose turn it is is down).
fn clearing_item(state: &State, party: &str, now_ms: i64) -> Option<Item> {
    let due = state.closable_periods(now_ms);
    if due.is_empty() {
        return None;
    }
    let members: Vec<&str> = state.members().filter(|m| m.active).map(|m| m.record.party_id.as_str()).collect();
    let turn = members.get((due.start % members.len().max(1) as u64) as usize).copied();
    let latest_due_since = state.closable_at(due.end - 1);
    if turn != Some(party) && now_ms < latest_due_since.saturating_add(CLOSE_FALLBACK_MS) {
        return None;
    }
    let periods = due.start..due.end.min(due.start + MAX_CLOSED_PER_ROUND);
    Some(Item {
        name: format!("clearing {}", periods.start),
        actions: Ok(periods.map(|period| Action::CloseClearing { period }).collect()),
    })
}

/// Each tariff's versions the ledger lacks, published under this member's party id.
fn tariff_items(state: &State, party: &str, tariffs: &[Tariff]) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    for tariff in tariffs {
        if (tariff.version as usize) <= state.tariff_versions(party, &tariff.id).len() {
            continue;
        }
        let json =
            serde_json::to_string(&Tariff { owner: party.to_owned(), ..tariff.clone() }).expect("tariffs serialize");
        let action = Action::PublishTariff { tariff_json: json };
        let name = format!("tariff {}", tariff.id);
        match items.last_mut() {
            Some(Item { name: last, actions: Ok(actions) }) if *last == name => actions.push(action),
            _ => items.push(Item { name, actions: Ok(vec![action]) }),
        }
    }
    items
}

/// What a commissioned charger's ledger record lacks; none when it is up to date.
fn charger_item(state: &State, party: &str, charger: &CommissionedCharger, now_ms: i64) -> Option<Item> {
    let record = &charger.record;
    let name = format!("charger {}", record.evse_id);
    let decommissioned = record.decommissioned_at.is_some();
    let time_zone = charger.time_zone.clone().unwrap_or_else(|| crate::billing::DEFAULT_TIME_ZONE.into());
    let calibrated = LifecycleEvent::Calibrated {
        certificate: record.calibration_certificate.clone(),
        expires_at: record.calibration_expires_at.as_millisecond(),
    };
    let lifecycle = |event| Action::ChargerLifecycle { evse_id: record.evse_id.clone(), event };
    let actions = match state.charger(&record.evse_id) {
        None if decommissioned => return None,
        None => identity(charger, time_zone).map(|identity| {
            vec![Action::RegisterCharger(identity), lifecycle(LifecycleEvent::Installed), lifecycle(calibrated)]
        }),
        Some(on_ledger) if on_ledger.owner != party => Err(Obstacle {
            code: "evse_id_taken",
            message: format!(
                "EVSE id {} is registered to {}; give the charger another",
                record.evse_id, on_ledger.owner
            ),
        }),
        Some(on_ledger) if on_ledger.status == ChargerStatus::Decommissioned => {
            if decommissioned {
                return None;
            }
            Err(Obstacle {
                code: "decommissioned_on_ledger",
                message: format!("{} was decommissioned for good; commission it under a new EVSE id", record.evse_id),
            })
        }
        Some(on_ledger) => {
            let mut actions = Vec::new();
            if on_ledger.status == ChargerStatus::Registered {
                actions.push(lifecycle(LifecycleEvent::Installed));
            }
            let calibration = (record.calibration_certificate.clone(), record.calibration_expires_at.as_millisecond());
            if on_ledger.calibration.as_ref() != Some(&calibration) {
                actions.push(lifecycle(calibrated));
            }
            if on_ledger.time_zone_at(now_ms) != time_zone {
                actions.push(lifecycle(LifecycleEvent::Relocated { time_zone }));
            }
            if decommissioned {
                actions.push(lifecycle(LifecycleEvent::Decommissioned));
            }
            if actions.is_empty() {
                return None;
            }
            Ok(actions)
        }
    };
    Some(Item { name, actions })
}

/// The charger's identity on the ledger; its maker, model and serial number come from its boot
/// notification, so a charger that never booted has none yet.
fn identity(charger: &CommissionedCharger, time_zone: String) -> Result<ChargerIdentity, Obstacle> {
    let record = &charger.record;
    let (Some(manufacturer), Some(model), Some(serial_number)) =
        (charger.vendor.clone(), charger.model.clone(), charger.serial_number.clone())
    else {
        return Err(Obstacle {
            code: "charger_not_booted",
            message: format!(
                "{} has not reported its maker, model and serial number; it is registered after it boots",
                record.station_id
            ),
        });
    };
    let connectors = record
        .connectors
        .iter()
        .map(|name| serde_json::from_value::<ConnectorType>(serde_json::Value::String(name.clone())))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Obstacle { code: "invalid_commissioning", message: format!("connectors: {e}") })?;
    Ok(ChargerIdentity {
        evse_id: record.evse_id.clone(),
        manufacturer,
        model,
        serial_number,
        max_power_watts: u64::try_from(record.max_power_watts).unwrap_or(0),
        connectors,
        metering_certificate: record.metering_certificate.clone(),
        time_zone,
    })
}
