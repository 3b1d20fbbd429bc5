//! Epochs: one Simplex engine per validator set. The chain's state numbers its validator sets
//! (`State::epoch`); the block that changes the set is the last one its epoch finalizes (the chain
//! refuses to build on it in that epoch). Once that block is committed, here by consensus or
//! fetched by the backfill, this node stops the epoch's engine and starts the next one with the
//! new validators from that block, voting if the member is one of them. The chain itself never
//! stops: the new engine's first block builds on the old epoch's last.
//!
//! Each epoch's votes and certificates travel on sub-channels of their own (the epoch's number), so
//! nothing signed in one epoch is mistaken for another's; each epoch journals its votes in a
//! storage partition of its own, removed once the epoch is over.

use super::application::{Application, Finalizer};
use super::status::{Health, Role};
use super::{Digest, Finalization, MemberConfig, namespace, participant_set, signing_scheme, validator_parties};
use crate::chain::Chain;
use chargemesh_ledger::state::State;
use commonware_codec::{Copying, Decode};
use commonware_consensus::simplex::{self, elector::RoundRobin, scheme::ed25519 as scheme};
use commonware_consensus::types::{Epoch, ViewDelta};
use commonware_cryptography::{Sha256, ed25519, sha256};
use commonware_p2p::utils::mux::MuxHandle;
use commonware_p2p::{Blocker, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Metrics, Spawner, Storage};
use commonware_utils::{NZU16, NZUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the epoch's end (and a change of members) is looked for.
const WATCH: Duration = Duration::from_millis(20);
/// The most validators a stored certificate may be read with, whatever the set it was made by.
const MAX_VALIDATORS: usize = 1024;

/// The member nodes of a state to keep connections with: each active member's key and p2p
/// endpoint. The p2p network is told whenever it changes.
pub(super) fn member_peers(state: &State) -> Vec<(chargemesh_ledger::PublicKey, String)> {
    state.members().filter(|m| m.active).map(|m| (m.record.public_key, m.record.p2p_endpoint.clone())).collect()
}

/// The three p2p channels Simplex runs on, each split into one sub-channel per epoch.
pub(super) struct EpochChannels<S: Sender> {
    pub votes: MuxHandle<S>,
    pub certificates: MuxHandle<S>,
    pub certificate_requests: MuxHandle<S>,
}

/// What the epochs' engines are built from.
pub(super) struct Epochs<E, S: Sender, B, T> {
    pub context: E,
    pub chain: Arc<Mutex<Chain>>,
    pub config: MemberConfig,
    pub health: Arc<Health>,
    pub blocker: B,
    pub application: Application<E, S>,
    pub finalizer: Finalizer,
    pub channels: EpochChannels<S>,
    /// Tells the p2p network the member nodes of a new state, under an increasing set number.
    pub track_members: T,
}

/// The epoch of the chain's head, its validators, and the finalization Simplex starts from: the
/// last certificate if the epoch made it, else the epoch's first parent (the block that ended the
/// previous epoch, or the genesis).
fn epoch_start(chain: &Chain) -> Result<(u64, simplex::Floor<scheme::Scheme, Digest>), String> {
    let epoch = chain.state().epoch();
    let certificate = chain.last_certificate().map_err(|e| e.to_string())?;
    let finalization = match certificate {
        Some(bytes) => Some(
            Finalization::decode_cfg(Copying(&bytes), &MAX_VALIDATORS)
                .map_err(|e| format!("the last stored certificate cannot be read: {e}"))?,
        ),
        None => None,
    };
    let floor = match finalization {
        Some(finalization) if finalization.proposal.round.epoch().get() == epoch => {
            simplex::Floor::Finalized(finalization)
        }
        _ => simplex::Floor::Genesis(sha256::Digest(chain.head().hash())),
    };
    Ok((epoch, floor))
}

impl<E, S, B, T> Epochs<E, S, B, T>
where
    E: Clock + rand_core::CryptoRng + Spawner + Storage + Metrics,
    S: Sender<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey>,
    T: FnMut(u64, &State) + Send + 'static,
{
    fn partition(&self, epoch: u64) -> String {
        format!("{}-epoch-{epoch}", self.config.partition)
    }

    /// Runs each epoch's engine in turn, for as long as the node runs.
    pub async fn run(mut self) {
        let mut members = member_peers(self.chain.lock().expect("chain lock").state());
        loop {
            let started = {
                let chain = self.chain.lock().expect("chain lock");
                epoch_start(&chain)
                    .map(|(epoch, floor)| (epoch, floor, participant_set(chain.state()), chain.state().chain()))
            };
            let (epoch, floor, participants, chain_id) = match started {
                Ok(started) => started,
                Err(error) => return tracing::error!(%error, "consensus cannot start"),
            };
            let (scheme, role) = match signing_scheme(&chain_id, participants.clone(), &self.config.key) {
                Some(signer) => (signer, Role::Validator),
                None => (scheme::Scheme::verifier(&namespace(&chain_id), participants.clone()), Role::Observer),
            };
            let validators = validator_parties(self.chain.lock().expect("chain lock").state(), &participants);
            tracing::info!(epoch, ?role, ?validators, "consensus runs the epoch");
            self.health.enter_epoch(epoch, role, validators);
            if let Some(previous) = epoch.checked_sub(1) {
                // Left behind if the node stopped between an epoch's end and this point.
                let _ = self.context.remove(&self.partition(previous), None).await;
            }
            let Some(engine) = self.start_engine(epoch, floor, scheme).await else { return };

            // Until the head's state is of another epoch; members may change meanwhile.
            loop {
                self.context.sleep(WATCH).await;
                let chain = self.chain.lock().expect("chain lock");
                let state = chain.state();
                let now = member_peers(state);
                if now != members {
                    (self.track_members)(chain.head().height, state);
                    members = now;
                }
                if state.epoch() != epoch {
                    break;
                }
            }
            engine.abort();
            let _ = self.context.remove(&self.partition(epoch), None).await;
        }
    }

    /// Starts Simplex for `epoch` on its sub-channels; none if the p2p network is gone.
    async fn start_engine(
        &mut self,
        epoch: u64,
        floor: simplex::Floor<scheme::Scheme, Digest>,
        scheme: scheme::Scheme,
    ) -> Option<commonware_runtime::Handle<()>> {
        let votes = self.channels.votes.register(epoch).await.ok()?;
        let certificates = self.channels.certificates.register(epoch).await.ok()?;
        let certificate_requests = self.channels.certificate_requests.register(epoch).await.ok()?;
        let timing = &self.config.timing;
        let cfg = simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker: self.blocker.clone(),
            automaton: self.application.clone(),
            relay: self.application.clone(),
            reporter: self.finalizer.clone(),
            track_historical_votes: false,
            strategy: Sequential,
            partition: self.partition(epoch),
            mailbox_size: NZUsize!(1024),
            epoch: Epoch::new(epoch),
            floor,
            replay_buffer: NZUsize!(1024 * 1024),
            write_buffer: NZUsize!(1024 * 1024),
            // Consensus pre-allocates the whole cache; its journal holds a few small votes per view.
            page_cache: CacheRef::new(NZU16!(16_384), NZUsize!(64)),
            leader_timeout: timing.leader_timeout,
            certification_timeout: timing.certification_timeout,
            timeout_retry: timing.timeout_retry,
            view_retention: ViewDelta::new(64),
            skip: simplex::SkipPolicy::Disabled,
            fetch_timeout: commonware_utils::NonZeroDuration::new(Duration::from_secs(1)).expect("non-zero"),
            fetch_retry_delay: Duration::from_millis(200),
            forward: simplex::ForwardPolicy::Disabled,
        };
        let engine = simplex::Engine::new(self.context.child("consensus").with_attribute("epoch", epoch), cfg);
        Some(engine.start(votes, certificates, certificate_requests))
    }
}
