//! The ledger's state and the state machine that changes it. `apply` checks a transaction against
//! the state and either rejects it with a precise reason, changing nothing, or applies it whole.
//! Deterministic: no clock (the block's timestamp is passed in), no randomness, maps iterated in key
//! order.

mod cdrs;
mod chargers;
mod clearing;
mod governance;
mod root;
mod tariffs;

pub use crate::fields::{check_p2p_endpoint, check_text};
pub use crate::rejection::Rejection;
pub use cdrs::{CdrEntry, CdrStatus};
pub use chargers::{Charger, ChargerStatus, HistoryEntry, check_evse_id};
pub use clearing::{Clearing, Transfer};
pub use governance::{Member, Proposal};
pub use tariffs::PublishedTariff;

pub use crate::parameters::Parameters;

use crate::Hash;
use crate::genesis::Genesis;
use crate::transaction::{Action, SignedTransaction};
use imbl::OrdMap;
use serde::Serialize;

/// Where a transaction is applied: the block's height and timestamp (Unix milliseconds) and the
/// transaction's id.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub height: u64,
    pub timestamp: i64,
    pub transaction: Hash,
}

/// What an applied transaction did, for the explorer and the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Proposed { proposal: u64 },
    Voted { proposal: u64 },
    ProposalPassed { proposal: u64 },
    ProposalRejected { proposal: u64 },
    ChargerRegistered { evse_id: String },
    ChargerChanged { evse_id: String },
    TariffPublished { owner: String, tariff_id: String, version: u32 },
    CdrAnchored { cpo: String, cdr_id: String, obligation: i64 },
    CdrDisputed { cpo: String, cdr_id: String },
    ResolutionProposed { cpo: String, cdr_id: String },
    CdrResolved { cpo: String, cdr_id: String, agreed_incl_tax: i64 },
    ClearingClosed { period: u64, transfers: usize },
    TransferConfirmed { period: u64, transfer: u32 },
}

/// Everything the members agree on. Its maps share structure, so a copy to build or check a block on
/// costs next to nothing.
#[derive(Debug, Clone)]
pub struct State {
    pub(crate) chain: Hash,
    pub(crate) genesis_time: i64,
    pub(crate) clearing_period_ms: i64,
    pub(crate) parameters: Parameters,
    pub(crate) members: OrdMap<String, Member>,
    pub(crate) proposals: OrdMap<u64, Proposal>,
    pub(crate) next_proposal: u64,
    /// The validator set's number: it goes up by one with every change to the set (a validator
    /// admitted, removed or made an observer, a validator's key rotated). The block that changes the
    /// set is the last one its validators finalize; the next set takes over after it.
    pub(crate) epoch: u64,
    pub(crate) chargers: OrdMap<String, Charger>,
    pub(crate) tariffs: OrdMap<(String, String), Vec<PublishedTariff>>,
    pub(crate) cdrs: OrdMap<(String, String), CdrEntry>,
    /// Open obligations by (clearing period, currency, debtor, creditor), in minor units.
    pub(crate) obligations: OrdMap<(u64, String, String, String), i64>,
    pub(crate) clearings: OrdMap<u64, Clearing>,
    pub(crate) next_clearing: u64,
    pub(crate) roots: root::Sections,
}

impl State {
    /// The state a chain starts from.
    pub fn from_genesis(genesis: &Genesis) -> Result<State, String> {
        genesis.check()?;
        let members = genesis
            .members
            .iter()
            .map(|record| (record.party_id.clone(), Member { record: record.clone(), nonce: 0, active: true }))
            .collect::<OrdMap<_, _>>();
        let mut state = State {
            chain: genesis.hash(),
            genesis_time: genesis.timestamp_ms,
            clearing_period_ms: genesis.clearing_period_ms,
            parameters: genesis.parameters.clone(),
            members,
            proposals: OrdMap::new(),
            next_proposal: 1,
            epoch: 0,
            chargers: OrdMap::new(),
            tariffs: OrdMap::new(),
            cdrs: OrdMap::new(),
            obligations: OrdMap::new(),
            clearings: OrdMap::new(),
            next_clearing: 0,
            roots: root::Sections::default(),
        };
        for (tariff, json) in genesis.founding_tariffs()? {
            state.found_tariff(tariff, json, genesis.timestamp_ms);
        }
        Ok(state)
    }

    /// The genesis hash transactions must be signed for.
    pub fn chain(&self) -> Hash {
        self.chain
    }

    pub fn parameters(&self) -> &Parameters {
        &self.parameters
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    pub fn member(&self, party_id: &str) -> Option<&Member> {
        self.members.get(party_id)
    }

    /// The number of the validator set (see [`State::validators`]): 0 at genesis, one more with
    /// every change to the set.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Governance proposals still open, by id.
    pub fn proposals(&self) -> impl Iterator<Item = (u64, &Proposal)> {
        self.proposals.iter().map(|(id, p)| (*id, p))
    }

    /// The active validators, by party id.
    pub fn validators(&self) -> impl Iterator<Item = &Member> {
        self.members.values().filter(|m| m.active && m.record.validator)
    }

    pub fn chargers(&self) -> impl Iterator<Item = &Charger> {
        self.chargers.values()
    }

    pub fn charger(&self, evse_id: &str) -> Option<&Charger> {
        self.chargers.get(evse_id)
    }

    /// Every published tariff: its owner, id and versions.
    pub fn tariffs(&self) -> impl Iterator<Item = (&str, &str, &[PublishedTariff])> {
        self.tariffs.iter().map(|((owner, id), versions)| (owner.as_str(), id.as_str(), versions.as_slice()))
    }

    pub fn tariff_versions(&self, owner: &str, tariff_id: &str) -> &[PublishedTariff] {
        self.tariffs.get(&(owner.to_owned(), tariff_id.to_owned())).map_or(&[], Vec::as_slice)
    }

    /// Every anchored CDR, by CPO and CDR id.
    pub fn cdrs(&self) -> impl Iterator<Item = &CdrEntry> {
        self.cdrs.values()
    }

    pub fn cdr(&self, cpo: &str, cdr_id: &str) -> Option<&CdrEntry> {
        self.cdrs.get(&(cpo.to_owned(), cdr_id.to_owned()))
    }

    /// Obligations not yet cleared: (period, currency, debtor, creditor, amount).
    pub fn open_obligations(&self) -> impl Iterator<Item = (u64, &str, &str, &str, i64)> {
        self.obligations.iter().map(|((p, c, d, r), a)| (*p, c.as_str(), d.as_str(), r.as_str(), *a))
    }

    pub fn clearings(&self) -> impl Iterator<Item = &Clearing> {
        self.clearings.values()
    }

    pub fn clearing(&self, period: u64) -> Option<&Clearing> {
        self.clearings.get(&period)
    }

    /// The next clearing period to close, and the instant (Unix ms) from which it may be closed: once
    /// it ended and the dispute window of its last charges passed.
    pub fn next_clearing(&self) -> (u64, i64) {
        (self.next_clearing, self.closable_at(self.next_clearing))
    }

    /// When clearing period `period` may be closed (Unix ms).
    pub fn closable_at(&self, period: u64) -> i64 {
        self.period_end(period).saturating_add(self.parameters.dispute_window_ms)
    }

    /// The clearing periods that may be closed at `now_ms`, in the order they must be closed.
    pub fn closable_periods(&self, now_ms: i64) -> std::ops::Range<u64> {
        // Period p may close once now >= genesis + (p + 1) * length + window.
        let ended = now_ms
            .saturating_sub(self.parameters.dispute_window_ms)
            .saturating_sub(self.genesis_time)
            .div_euclid(self.clearing_period_ms);
        self.next_clearing..u64::try_from(ended).unwrap_or(0).max(self.next_clearing)
    }

    /// The clearing period a timestamp falls in.
    fn period_of(&self, timestamp: i64) -> u64 {
        u64::try_from((timestamp - self.genesis_time).div_euclid(self.clearing_period_ms)).unwrap_or(0)
    }

    /// When a period ends (Unix milliseconds).
    fn period_end(&self, period: u64) -> i64 {
        self.genesis_time.saturating_add((period as i64 + 1).saturating_mul(self.clearing_period_ms))
    }

    /// The sender's member record and key, when it may send: an active member with this nonce next.
    fn check_sender(&self, tx: &SignedTransaction) -> Result<&Member, Rejection> {
        let t = &tx.transaction;
        if t.chain != self.chain {
            return Err(Rejection::WrongChain);
        }
        let member = match self.members.get(&t.sender) {
            Some(member) if member.active => member,
            _ => return Err(Rejection::UnknownSender(t.sender.clone())),
        };
        if t.nonce != member.nonce + 1 {
            return Err(Rejection::BadNonce { expected: member.nonce + 1, got: t.nonce });
        }
        Ok(member)
    }

    /// Checks a transaction's sender, nonce and signature, then applies it. A rejected transaction
    /// changes nothing.
    pub fn apply(&mut self, tx: &SignedTransaction, context: Context) -> Result<Vec<Event>, Rejection> {
        let member = self.check_sender(tx)?;
        if !tx.verify_signature(&member.record.public_key) {
            return Err(Rejection::BadSignature);
        }
        self.apply_verified(tx, context)
    }

    /// Applies a transaction whose signature was already checked (in a batch with its block's).
    pub fn apply_verified(&mut self, tx: &SignedTransaction, context: Context) -> Result<Vec<Event>, Rejection> {
        self.check_sender(tx)?;
        let sender = tx.transaction.sender.as_str();
        let events = match &tx.transaction.action {
            Action::Propose(action) => self.propose(sender, action, context)?,
            Action::Vote { proposal, approve } => self.vote(sender, *proposal, *approve, context)?,
            Action::RegisterCharger(identity) => self.register_charger(sender, identity, context)?,
            Action::ChargerLifecycle { evse_id, event } => self.charger_event(sender, evse_id, event, context)?,
            Action::PublishTariff { tariff_json } => self.publish_tariff(sender, tariff_json, context)?,
            Action::AnchorCdr(anchor) => self.anchor_cdr(sender, anchor, context)?,
            Action::DisputeCdr { cpo, cdr_id, reason } => self.dispute_cdr(sender, cpo, cdr_id, *reason, context)?,
            Action::ResolveCdr { cpo, cdr_id, agreed_incl_tax } => {
                self.resolve_cdr(sender, cpo, cdr_id, *agreed_incl_tax, context)?
            }
            Action::CloseClearing { period } => self.close_clearing(*period, context)?,
            Action::ConfirmPaid { period, transfer } => self.confirm(sender, *period, *transfer, true)?,
            Action::ConfirmReceived { period, transfer } => self.confirm(sender, *period, *transfer, false)?,
        };
        let member = self.members.get_mut(sender).expect("the sender was checked");
        member.nonce += 1;
        self.roots.members = None;
        Ok(events)
    }

    /// The active member `party_id`, or why it is not one.
    fn active_member(&self, party_id: &str) -> Result<&Member, Rejection> {
        match self.members.get(party_id) {
            Some(member) if member.active => Ok(member),
            _ => Err(Rejection::UnknownMember(party_id.to_owned())),
        }
    }
}
