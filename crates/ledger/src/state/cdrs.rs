//! Anchored charge records: the ledger re-prices each with the pricing function the nodes bill with
//! and records what the driver's member owes the charger's owner; the driver's member may dispute a
//! record within the window, and both settle it on an agreed amount.

use super::chargers::ChargerStatus;
use super::{Context, Event, Rejection, State, check_text};
use crate::Hash;
use crate::transaction::{AnchoredPeriod, CdrAnchor, ClaimedAmounts, DisputeReason};
use chargemesh_core::energy::Energy;
use chargemesh_core::pricing::{ChargingPeriod, price};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// The most charging periods one anchored CDR may have.
pub const MAX_PERIODS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CdrStatus {
    Anchored,
    /// Disputed by the eMSP; `proposals` are the amounts each side proposed to settle for.
    Disputed {
        reason: DisputeReason,
        proposals: BTreeMap<String, i64>,
    },
    Resolved {
        agreed_incl_tax: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CdrEntry {
    pub cpo: String,
    pub anchor: CdrAnchor,
    /// The clearing period its obligation was recorded in.
    pub period: u64,
    pub anchored_at: i64,
    pub height: u64,
    #[serde(with = "hex::serde")]
    pub transaction: Hash,
    pub status: CdrStatus,
}

impl CdrEntry {
    /// What the eMSP owes for it (none for a member's own driver).
    pub fn owed(&self) -> i64 {
        if self.anchor.emsp == self.cpo { 0 } else { self.anchor.claimed.incl_tax }
    }
}

fn check_periods(periods: &[AnchoredPeriod]) -> Result<Vec<ChargingPeriod>, Rejection> {
    let invalid = |problem: String| Rejection::InvalidPeriods(problem);
    if periods.is_empty() || periods.len() > MAX_PERIODS {
        return Err(invalid(format!("1 to {MAX_PERIODS} periods")));
    }
    periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let at = |ms: i64| {
                Timestamp::from_millisecond(ms).map_err(|_| invalid(format!("period {i}: time out of range")))
            };
            let (start, end) = (at(p.start)?, at(p.end)?);
            if end < start || p.energy_mwh < 0 {
                return Err(invalid(format!("period {i}: ends before it starts or has negative energy")));
            }
            if i > 0 && p.start < periods[i - 1].end {
                return Err(invalid(format!("period {i} starts before period {} ends", i - 1)));
            }
            Ok(ChargingPeriod { start, end, energy: Energy::from_mwh(p.energy_mwh) })
        })
        .collect()
}

/// Names the first amount that differs between what was claimed and what the ledger computed.
fn difference(claimed: &ClaimedAmounts, computed: &ClaimedAmounts) -> Option<String> {
    if claimed.currency != computed.currency {
        return Some(format!("currency {} claimed, {} computed", claimed.currency, computed.currency));
    }
    let fields = [
        ("energy", claimed.energy, computed.energy),
        ("service_fee", claimed.service_fee, computed.service_fee),
        ("charging_time", claimed.charging_time, computed.charging_time),
        ("idle_time", claimed.idle_time, computed.idle_time),
        ("flat", claimed.flat, computed.flat),
        ("adjustment", claimed.adjustment, computed.adjustment),
        ("excl_tax", claimed.excl_tax, computed.excl_tax),
        ("tax", claimed.tax, computed.tax),
        ("incl_tax", claimed.incl_tax, computed.incl_tax),
    ];
    fields.iter().find(|(_, c, p)| c != p).map(|(name, c, p)| format!("{name} {c} claimed, {p} computed"))
}

impl State {
    pub(super) fn anchor_cdr(
        &mut self,
        sender: &str,
        anchor: &CdrAnchor,
        context: Context,
    ) -> Result<Vec<Event>, Rejection> {
        if !self.active_member(sender)?.record.roles.cpo {
            return Err(Rejection::MissingRole("cpo"));
        }
        check_text("cdr_id", &anchor.cdr_id, 64)?;
        let charger =
            self.chargers.get(&anchor.evse_id).ok_or_else(|| Rejection::UnknownCharger(anchor.evse_id.clone()))?;
        if charger.owner != sender {
            return Err(Rejection::NotOwner { evse_id: anchor.evse_id.clone(), owner: charger.owner.clone() });
        }
        if charger.status != ChargerStatus::Active {
            return Err(Rejection::ChargerState {
                evse_id: anchor.evse_id.clone(),
                status: charger.status.as_str().into(),
                problem: "only an active charger anchors charges".into(),
            });
        }
        let periods = check_periods(&anchor.periods)?;
        let (start, end) = (anchor.periods[0].start, anchor.periods[anchor.periods.len() - 1].end);
        if end > context.timestamp {
            return Err(Rejection::InvalidPeriods(
                "the session ends after the block: only ended sessions are anchored".into(),
            ));
        }
        if charger.calibration.as_ref().is_none_or(|(_, expires)| *expires <= end) {
            return Err(Rejection::CalibrationExpired { evse_id: anchor.evse_id.clone() });
        }
        if !self.active_member(&anchor.emsp)?.record.roles.emsp {
            return Err(Rejection::InvalidField {
                field: "emsp",
                problem: format!("{} has no eMSP role", anchor.emsp),
            });
        }
        let key = (sender.to_owned(), anchor.cdr_id.clone());
        if self.cdrs.contains_key(&key) {
            return Err(Rejection::AlreadyAnchored(anchor.cdr_id.clone()));
        }
        let in_force = self.tariff_in_force(sender, &anchor.tariff_id, start);
        if in_force.map(|p| p.tariff.version) != Some(anchor.tariff_version) {
            if !self
                .tariff_versions(sender, &anchor.tariff_id)
                .iter()
                .any(|p| p.tariff.version == anchor.tariff_version)
            {
                return Err(Rejection::UnknownTariff {
                    owner: sender.into(),
                    tariff_id: anchor.tariff_id.clone(),
                    version: anchor.tariff_version,
                });
            }
            return Err(Rejection::TariffNotInForce {
                claimed: anchor.tariff_version,
                in_force: in_force.map_or("none".into(), |p| format!("version {}", p.tariff.version)),
            });
        }
        let tariff = &in_force.expect("checked").tariff;
        let zone = jiff::tz::TimeZone::get(charger.time_zone_at(start))
            .map_err(|e| Rejection::InvalidField { field: "time_zone", problem: e.to_string() })?;
        let computed = price(tariff, &zone, &periods).map_err(|e| Rejection::InvalidPeriods(e.to_string()))?;
        if let Some(difference) = difference(&anchor.claimed, &ClaimedAmounts::of(&computed)) {
            return Err(Rejection::PriceDiffers(difference));
        }
        let entry = CdrEntry {
            cpo: sender.to_owned(),
            anchor: anchor.clone(),
            period: self.period_of(context.timestamp),
            anchored_at: context.timestamp,
            height: context.height,
            transaction: context.transaction,
            status: CdrStatus::Anchored,
        };
        let owed = entry.owed();
        self.add_obligation(entry.period, &anchor.claimed.currency, &anchor.emsp, sender, owed);
        self.roots.log_cdr(&key, &entry.status, context.transaction);
        self.cdrs.insert(key, entry);
        Ok(vec![Event::CdrAnchored { cpo: sender.to_owned(), cdr_id: anchor.cdr_id.clone(), obligation: owed }])
    }

    pub(super) fn dispute_cdr(
        &mut self,
        sender: &str,
        cpo: &str,
        cdr_id: &str,
        reason: DisputeReason,
        context: Context,
    ) -> Result<Vec<Event>, Rejection> {
        let key = (cpo.to_owned(), cdr_id.to_owned());
        let entry = self.cdrs.get(&key).ok_or_else(|| Rejection::UnknownCdr(cdr_id.to_owned()))?;
        if entry.anchor.emsp != sender || entry.cpo == sender {
            return Err(Rejection::Dispute("only the driver's member disputes another member's CDR".into()));
        }
        if entry.status != CdrStatus::Anchored {
            return Err(Rejection::Dispute(format!("CDR {cdr_id} was disputed already")));
        }
        if context.timestamp >= entry.anchored_at.saturating_add(self.parameters.dispute_window_ms)
            || self.clearings.contains_key(&entry.period)
        {
            return Err(Rejection::Dispute("the dispute window has closed".into()));
        }
        let (period, currency, owed) = (entry.period, entry.anchor.claimed.currency.clone(), entry.owed());
        // A disputed charge is held out of clearing until it is resolved.
        self.add_obligation(period, &currency, sender, cpo, -owed);
        let entry = self.cdrs.get_mut(&key).expect("just read");
        entry.status = CdrStatus::Disputed { reason, proposals: BTreeMap::new() };
        self.roots.log_cdr(&key, &entry.status, context.transaction);
        Ok(vec![Event::CdrDisputed { cpo: cpo.to_owned(), cdr_id: cdr_id.to_owned() }])
    }

    pub(super) fn resolve_cdr(
        &mut self,
        sender: &str,
        cpo: &str,
        cdr_id: &str,
        agreed: i64,
        context: Context,
    ) -> Result<Vec<Event>, Rejection> {
        let key = (cpo.to_owned(), cdr_id.to_owned());
        let entry = self.cdrs.get(&key).ok_or_else(|| Rejection::UnknownCdr(cdr_id.to_owned()))?;
        if sender != entry.cpo && sender != entry.anchor.emsp {
            return Err(Rejection::Dispute("only the two members of a CDR resolve it".into()));
        }
        let CdrStatus::Disputed { proposals, .. } = &entry.status else {
            return Err(Rejection::Dispute(format!("CDR {cdr_id} is not disputed")));
        };
        if !(0..=entry.owed()).contains(&agreed) {
            return Err(Rejection::Dispute(format!("the amount must be between 0 and the {} claimed", entry.owed())));
        }
        let other = if sender == entry.cpo { entry.anchor.emsp.clone() } else { entry.cpo.clone() };
        let settled = proposals.get(&other) == Some(&agreed);
        let (emsp, currency) = (entry.anchor.emsp.clone(), entry.anchor.claimed.currency.clone());
        let period = self.period_of(context.timestamp);
        let entry = self.cdrs.get_mut(&key).expect("just read");
        let event = if settled {
            entry.status = CdrStatus::Resolved { agreed_incl_tax: agreed };
            Event::CdrResolved { cpo: cpo.to_owned(), cdr_id: cdr_id.to_owned(), agreed_incl_tax: agreed }
        } else {
            if let CdrStatus::Disputed { proposals, .. } = &mut entry.status {
                proposals.insert(sender.to_owned(), agreed);
            }
            Event::ResolutionProposed { cpo: cpo.to_owned(), cdr_id: cdr_id.to_owned() }
        };
        self.roots.log_cdr(&key, &entry.status, context.transaction);
        if settled {
            // The agreed amount is owed in the period open now.
            self.add_obligation(period, &currency, &emsp, cpo, agreed);
        }
        Ok(vec![event])
    }

    fn add_obligation(&mut self, period: u64, currency: &str, debtor: &str, creditor: &str, amount: i64) {
        if amount == 0 {
            return;
        }
        let key = (period, currency.to_owned(), debtor.to_owned(), creditor.to_owned());
        let total = self.obligations.entry(key.clone()).or_insert(0);
        *total += amount;
        if *total == 0 {
            self.obligations.remove(&key);
        }
        self.roots.clearing = None;
    }
}
