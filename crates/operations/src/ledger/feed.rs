//! The feed: every few seconds the node compares its tariffs, commissioned chargers and ended
//! sessions with the ledger's state and submits, signed as this member, what the ledger lacks.
//!
//! The feed keeps the tariffs and chargers it read and reads again only those operations noted as
//! changed (all of them now and then); ended sessions not yet anchored are found by a query of their
//! own. Nothing else is remembered between rounds but what is in the mempool: whatever a crash, a
//! restart or a block builder dropped is found missing again and resubmitted, and whatever the ledger
//! holds is never submitted twice (the ledger itself refuses a second anchor of a CDR id, too).

use super::LedgerNode;
use super::plan::{self, NodeData, Obstacle, PreparedAnchor};
use crate::billing;
use crate::changes::Changed;
use chargemesh_core::pseudonym::{pseudonym, token_commitment};
use chargemesh_core::tariff::Tariff;
use chargemesh_ledger::Hash;
use chargemesh_ledger::proof::cdr_hash;
use chargemesh_ledger::transaction::{AnchoredPeriod, CdrAnchor, ClaimedAmounts};
use chargemesh_store::anchors::{self, AnchorCandidate};
use chargemesh_store::commissioning::CommissionedCharger;
use chargemesh_store::{Conn, Store, StoreError, commissioning, sessions, settlements, tariffs};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How many ended sessions one round prepares.
const ANCHORS_PER_ROUND: i64 = 500;

/// What the feed knows between rounds: which transaction each item is waiting on, and what the
/// last round found.
#[derive(Default)]
pub struct FeedState {
    last_round_at: Option<Timestamp>,
    waiting: BTreeMap<String, Hash>,
    problems: BTreeMap<String, Problem>,
}

/// What the last round of the feed found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedStatus {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_round_at: Option<Timestamp>,
    /// Submitted and waiting for a block: item → transaction id (hex).
    pub waiting: BTreeMap<String, String>,
    /// What cannot go to the ledger and why, by item (`tariff T1`, `charger CN*ABC*E1`, `cdr 42`).
    pub problems: BTreeMap<String, Problem>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A stable code: one of the ledger's rejection codes, or the feed's own (`charger_not_booted`,
    /// `evse_id_taken`, `cdr_stale`, ...).
    pub code: String,
    pub message: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
}

/// Runs a round every `interval` (reading all tariffs and chargers again every
/// `everything_interval`) until the task is aborted; a round that fails (the database is
/// unreachable) is logged and the next one reads everything again.
pub async fn run(
    ledger: Arc<LedgerNode>,
    operations: crate::Operations,
    [interval, everything_interval]: [Duration; 2],
    anchor_own: bool,
) {
    // Followed before the first read, so that no change falls between.
    let changes = operations.follow_changes();
    let store = operations.store;
    let mut known = Known::default();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let mut changed = changes.take();
        changed.everything |= known.read_at.is_none_or(|at| at.elapsed() >= everything_interval);
        let result = match known.refresh(&store, changed).await {
            Ok(()) => round(&ledger, &store, &known, anchor_own).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            known.read_at = None;
            tracing::warn!(error = %e, "the ledger feed could not read the node's data; retrying");
        }
    }
}

/// The node's tariffs and chargers as the feed last read them.
#[derive(Default)]
struct Known {
    /// Every version of each tariff, by tariff id.
    tariffs: BTreeMap<String, Vec<Tariff>>,
    chargers: BTreeMap<String, CommissionedCharger>,
    /// When all of them were last read.
    read_at: Option<tokio::time::Instant>,
}

impl Known {
    /// Reads again what `changed` names: everything, or the tariffs and chargers noted.
    async fn refresh(&mut self, store: &Store, changed: Changed) -> Result<(), StoreError> {
        // A site's time zone is part of its chargers' identity on the ledger.
        let everything = changed.everything || !changed.sites.is_empty();
        let (tariff_ids, stations) = (changed.tariffs, changed.stations);
        if !everything && tariff_ids.is_empty() && stations.is_empty() {
            return Ok(());
        }
        let (tariffs, chargers) = store
            .read(move |conn| {
                Box::pin(async move {
                    let ids: Vec<String> = match everything {
                        true => {
                            tariffs::list_latest(&mut *conn, None).await?.into_iter().map(|t| t.tariff.id).collect()
                        }
                        false => tariff_ids.into_iter().collect(),
                    };
                    let mut tariffs = BTreeMap::new();
                    for id in ids {
                        let versions = tariffs::versions(&mut *conn, &id).await?;
                        tariffs.insert(id, versions.into_iter().map(|v| v.tariff).collect::<Vec<_>>());
                    }
                    let mut chargers = BTreeMap::new();
                    if everything {
                        for charger in commissioning::list(&mut *conn, None).await? {
                            chargers.insert(charger.record.station_id.clone(), Some(charger));
                        }
                    }
                    for station in stations.iter().filter(|_| !everything) {
                        let found = commissioning::list(&mut *conn, Some(station)).await?.pop();
                        chargers.insert(station.clone(), found);
                    }
                    Ok((tariffs, chargers))
                })
            })
            .await?;
        if everything {
            self.tariffs.clear();
            self.chargers.clear();
            self.read_at = Some(tokio::time::Instant::now());
        }
        self.tariffs.extend(tariffs.into_iter().filter(|(_, versions)| !versions.is_empty()));
        for (station, charger) in chargers {
            match charger {
                Some(charger) => self.chargers.insert(station, charger),
                None => self.chargers.remove(&station),
            };
        }
        Ok(())
    }
}

impl LedgerNode {
    pub fn feed_status(&self) -> FeedStatus {
        let feed = self.feed.lock().expect("feed lock");
        FeedStatus {
            last_round_at: feed.last_round_at,
            waiting: feed.waiting.iter().map(|(item, id)| (item.clone(), hex::encode(id))).collect(),
            problems: feed.problems.clone(),
        }
    }
}

/// One comparison of the node's data with the ledger, and the submissions it calls for.
async fn round(ledger: &LedgerNode, store: &Store, known: &Known, anchor_own: bool) -> Result<(), StoreError> {
    let party = ledger.party_id.clone();
    let secret = ledger.pseudonym_secret;
    let (anchors, disputes) =
        store.read(move |conn| Box::pin(async move { charges(conn, &party, &secret, anchor_own).await })).await?;
    let data = NodeData {
        tariffs: known.tariffs.values().flatten().cloned().collect(),
        chargers: known.chargers.values().cloned().collect(),
        anchors,
        disputes,
    };
    let on_ledger = submit(ledger, &data);
    if !on_ledger.is_empty() {
        store
            .write(move |tx| {
                Box::pin(async move {
                    let now = Timestamp::now();
                    for (session_id, cdr_id, height) in &on_ledger {
                        anchors::record(&mut *tx, *session_id, cdr_id, *height, now).await?;
                    }
                    Ok(())
                })
            })
            .await?;
    }
    Ok(())
}

/// The ended sessions the ledger may lack, prepared as anchors, and the charges this member disputes.
async fn charges(
    conn: &mut Conn,
    party: &str,
    secret: &[u8; 32],
    anchor_own: bool,
) -> Result<(Vec<PreparedAnchor>, Vec<(String, String, chargemesh_ledger::transaction::DisputeReason)>), StoreError> {
    let mut anchors = Vec::new();
    for candidate in anchors::candidates(&mut *conn, anchor_own, ANCHORS_PER_ROUND).await? {
        anchors.push(prepare_anchor(&mut *conn, party, secret, candidate).await?);
    }
    let disputes = settlements::disputed(&mut *conn)
        .await?
        .into_iter()
        .filter_map(|(cpo, cdr_id, reason)| {
            let reason = serde_json::from_value(serde_json::Value::String(reason)).ok()?;
            Some((cpo, cdr_id, reason))
        })
        .collect();
    Ok((anchors, disputes))
}

/// The anchor of a session's CDR as the node saved it: priced again from the session's readings,
/// which must give the saved CDR exactly (else the session is being re-priced; a later round
/// anchors it).
async fn prepare_anchor(
    conn: &mut Conn,
    party: &str,
    secret: &[u8; 32],
    candidate: AnchorCandidate,
) -> Result<PreparedAnchor, StoreError> {
    let cdr_id = candidate.session_id.to_string();
    let obstacle = |code, message: String| Obstacle { code, message };
    let session = sessions::get_session(&mut *conn, candidate.session_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("session {} has a CDR but no record", candidate.session_id)))?;
    let anchor = match billing::priced_periods(&mut *conn, &session).await? {
        None => Err(obstacle("cdr_unpriced", "the session cannot be priced now (see the node's log)".into())),
        Some((_, priced)) if serde_json::to_string(&priced).ok().as_deref() != Some(&candidate.cdr_body) => {
            Err(obstacle("cdr_stale", "the saved CDR differs from the session priced now; it is re-priced".into()))
        }
        Some((periods, _)) if periods.is_empty() => Err(obstacle("cdr_empty", "no charging period was metered".into())),
        Some((periods, priced)) => {
            let driver = match &candidate.emsp_party {
                // A roaming driver's token is already its member's pseudonym.
                Some(_) => session.id_token.clone(),
                None => pseudonym(secret, party, &session.id_token),
            };
            Ok(CdrAnchor {
                token_commitment: token_commitment(&driver, &cdr_id),
                cdr_id: cdr_id.clone(),
                evse_id: candidate.evse_id,
                emsp: candidate.emsp_party.unwrap_or_else(|| party.to_owned()),
                periods: periods.iter().map(AnchoredPeriod::from).collect(),
                tariff_id: priced.tariff_id.clone(),
                tariff_version: priced.tariff_version,
                claimed: ClaimedAmounts::of(&priced),
                cdr_hash: cdr_hash(candidate.cdr_body.as_bytes()),
            })
        }
    };
    Ok(PreparedAnchor { session_id: candidate.session_id, cdr_id, anchor })
}

/// Submits what the plan calls for, under the chain's lock so that nonces follow one another, and
/// returns the sessions the ledger holds.
fn submit(ledger: &LedgerNode, data: &NodeData) -> Vec<(i64, String, u64)> {
    let now = Timestamp::now();
    let mut chain = ledger.chain.lock().expect("chain lock");
    let mut feed = ledger.feed.lock().expect("feed lock");
    let plan = plan::plan(chain.state(), &ledger.party_id, data, now.as_millisecond());
    let mut waiting = BTreeMap::new();
    let mut problems = BTreeMap::new();
    for item in plan.items {
        if let Some(id) = feed.waiting.get(&item.name).filter(|id| chain.mempool().contains(id)) {
            waiting.insert(item.name, *id);
            continue;
        }
        let actions = match item.actions {
            Ok(actions) => actions,
            Err(obstacle) => {
                problems.insert(item.name, (obstacle.code.to_owned(), obstacle.message));
                continue;
            }
        };
        for action in actions {
            match super::send_as(&mut chain, &ledger.party_id, &ledger.key, action, now.as_millisecond()) {
                Ok((id, _)) => {
                    waiting.insert(item.name.clone(), id);
                }
                Err(e) => {
                    problems.insert(item.name.clone(), (e.code().to_owned(), e.to_string()));
                    break;
                }
            }
        }
    }
    let previous = std::mem::take(&mut feed.problems);
    for (item, (code, message)) in problems {
        let since = match previous.get(&item) {
            Some(old) if old.code == code => old.since,
            _ => {
                tracing::warn!(%item, %code, %message, "the ledger cannot take this yet");
                now
            }
        };
        feed.problems.insert(item, Problem { code, message, since });
    }
    feed.last_round_at = Some(now);
    feed.waiting = waiting;
    plan.on_ledger
}
