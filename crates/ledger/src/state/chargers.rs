//! Chargers' digital identities and life histories. Only an active charger with a valid
//! calibration may anchor charges: a charger that was never installed, was decommissioned or whose
//! meter's calibration lapsed bills nobody.

use super::{Context, Event, Rejection, State, check_text};
use crate::transaction::{ChargerIdentity, LifecycleEvent};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargerStatus {
    /// Registered, not yet in service.
    Registered,
    Active,
    Decommissioned,
}

impl ChargerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargerStatus::Registered => "registered",
            ChargerStatus::Active => "active",
            ChargerStatus::Decommissioned => "decommissioned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub height: u64,
    /// Unix milliseconds of the block.
    pub timestamp: i64,
    pub event: LifecycleEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charger {
    pub owner: String,
    pub identity: ChargerIdentity,
    pub status: ChargerStatus,
    /// The latest calibration: its certificate and when it expires (Unix milliseconds).
    pub calibration: Option<(String, i64)>,
    /// The time zones it was in: from which instant (Unix milliseconds) each applies.
    pub time_zones: Vec<(i64, String)>,
    pub registered_at_height: u64,
    pub history: Vec<HistoryEntry>,
}

impl Charger {
    /// The time zone its tariffs were evaluated in at `at`.
    pub fn time_zone_at(&self, at: i64) -> &str {
        let current = self.time_zones.iter().rev().find(|(from, _)| *from <= at);
        current.or(self.time_zones.first()).map_or("Asia/Shanghai", |(_, zone)| zone.as_str())
    }
}

fn check_time_zone(name: &str) -> Result<(), Rejection> {
    check_text("time_zone", name, 64)?;
    jiff::tz::TimeZone::get(name).map(|_| ()).map_err(|_| Rejection::InvalidField {
        field: "time_zone",
        problem: format!("{name:?} is not an IANA time zone"),
    })
}

/// An EVSE id: printable ASCII without spaces, at most 48 characters.
pub fn check_evse_id(evse_id: &str) -> Result<(), Rejection> {
    if evse_id.is_empty() || evse_id.len() > 48 || !evse_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Rejection::InvalidField { field: "evse_id", problem: "1 to 48 printable ASCII characters".into() });
    }
    Ok(())
}

impl State {
    pub(super) fn register_charger(
        &mut self,
        sender: &str,
        identity: &ChargerIdentity,
        context: Context,
    ) -> Result<Vec<Event>, Rejection> {
        if !self.active_member(sender)?.record.roles.cpo {
            return Err(Rejection::MissingRole("cpo"));
        }
        check_evse_id(&identity.evse_id)?;
        check_text("manufacturer", &identity.manufacturer, 64)?;
        check_text("model", &identity.model, 64)?;
        check_text("serial_number", &identity.serial_number, 64)?;
        check_text("metering_certificate", &identity.metering_certificate, 128)?;
        check_time_zone(&identity.time_zone)?;
        if identity.max_power_watts == 0 || identity.max_power_watts > 2_000_000 {
            return Err(Rejection::InvalidField { field: "max_power_watts", problem: "1 W to 2 MW".into() });
        }
        if identity.connectors.is_empty() || identity.connectors.len() > 16 {
            return Err(Rejection::InvalidField { field: "connectors", problem: "1 to 16 connectors".into() });
        }
        if self.chargers.contains_key(&identity.evse_id) {
            return Err(Rejection::ChargerExists(identity.evse_id.clone()));
        }
        let charger = Charger {
            owner: sender.to_owned(),
            identity: identity.clone(),
            status: ChargerStatus::Registered,
            calibration: None,
            time_zones: vec![(i64::MIN, identity.time_zone.clone())],
            registered_at_height: context.height,
            history: Vec::new(),
        };
        self.chargers.insert(identity.evse_id.clone(), charger);
        self.roots.chargers = None;
        Ok(vec![Event::ChargerRegistered { evse_id: identity.evse_id.clone() }])
    }

    pub(super) fn charger_event(
        &mut self,
        sender: &str,
        evse_id: &str,
        event: &LifecycleEvent,
        context: Context,
    ) -> Result<Vec<Event>, Rejection> {
        let charger = self.chargers.get(evse_id).ok_or_else(|| Rejection::UnknownCharger(evse_id.to_owned()))?;
        if charger.owner != sender {
            return Err(Rejection::NotOwner { evse_id: evse_id.to_owned(), owner: charger.owner.clone() });
        }
        let refuse = |problem: &str| {
            Err(Rejection::ChargerState {
                evse_id: evse_id.to_owned(),
                status: charger.status.as_str().to_owned(),
                problem: problem.to_owned(),
            })
        };
        if charger.status == ChargerStatus::Decommissioned {
            return refuse("a decommissioned charger has no further life");
        }
        match event {
            LifecycleEvent::Installed if charger.status == ChargerStatus::Active => {
                return refuse("it is installed already");
            }
            LifecycleEvent::Calibrated { certificate, expires_at } => {
                check_text("certificate", certificate, 128)?;
                if *expires_at <= context.timestamp {
                    return Err(Rejection::InvalidField {
                        field: "expires_at",
                        problem: "a calibration must expire after it is recorded".into(),
                    });
                }
            }
            LifecycleEvent::Relocated { time_zone } => check_time_zone(time_zone)?,
            _ => {}
        }
        let charger = self.chargers.get_mut(evse_id).expect("just read");
        match event {
            LifecycleEvent::Installed => charger.status = ChargerStatus::Active,
            LifecycleEvent::Calibrated { certificate, expires_at } => {
                charger.calibration = Some((certificate.clone(), *expires_at));
            }
            LifecycleEvent::Relocated { time_zone } => charger.time_zones.push((context.timestamp, time_zone.clone())),
            LifecycleEvent::Decommissioned => charger.status = ChargerStatus::Decommissioned,
            LifecycleEvent::Repaired => {}
        }
        charger.history.push(HistoryEntry {
            height: context.height,
            timestamp: context.timestamp,
            event: event.clone(),
        });
        self.roots.chargers = None;
        Ok(vec![Event::ChargerChanged { evse_id: evse_id.to_owned() }])
    }
}
