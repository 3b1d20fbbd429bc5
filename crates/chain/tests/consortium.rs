//! The ledger among many members' nodes, on Commonware's deterministic runtime and simulated
//! network, each run reproducible from its seed: 4 and 7 validators and an observer; transactions
//! submitted at any node; a crashed validator, a partitioned minority, a split without quorum,
//! slow and lossy links, a peer sending garbage, a validator that equivocates or proposes invalid
//! blocks; validators admitted, removed and re-keyed by governance. Every test checks that the
//! honest nodes hold the same blocks and state, and that every transaction was applied exactly
//! once.

mod common;
#[path = "consortium/invalid_proposer.rs"]
mod invalid_proposer;

use chargemesh_chain::chain::{Chain, ChainError};
use chargemesh_chain::consensus::{self, status::Role};
use chargemesh_ledger::transaction::{Action, GovernanceAction};
use chargemesh_ledger::{Genesis, MemberKey, Transaction};
use common::sim::{Consortium, consensus_now, fast_link, peer_key, percent};
use common::*;
use commonware_p2p::simulated::Link;
use commonware_p2p::{Recipients, Sender as _};
use commonware_runtime::{Clock as _, Quota, Runner as _, deterministic};
use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

/// The tariff versions each member publishes per round of a test.
const PER_ROUND: u32 = 5;

fn party(n: usize) -> String {
    format!("CN-V{n:02}")
}

/// `validators` validating members CN-V01… and one observing member CN-OBS.
fn consortium(validators: usize) -> (Genesis, BTreeMap<String, MemberKey>) {
    let mut members: Vec<_> = (1..=validators).map(|n| record(&party(n), true, true, true)).collect();
    members.push(record("CN-OBS", false, false, false));
    let keys = members.iter().map(|m| (m.party_id.clone(), key(&m.party_id))).collect();
    (genesis(members), keys)
}

/// `party`'s tariff versions `versions`, each with the next nonce: a transaction any member can
/// make many of, each changing the state.
fn tariffs(genesis: &Genesis, party: &str, versions: std::ops::RangeInclusive<u32>) -> Vec<Vec<u8>> {
    let chain = genesis.hash();
    versions
        .map(|version| {
            let tariff = tariff(party, version, GENESIS_TIME + DAY + i64::from(version) * HOUR);
            let tx = Transaction { chain, sender: party.into(), nonce: u64::from(version), action: publish(&tariff) };
            tx.sign(&key(party)).encode()
        })
        .collect()
}

/// Whether `chain` holds exactly `versions` tariff versions of every party in `parties`, each
/// sender's nonce matching (no transaction lost, none applied twice).
fn holds(chain: &Chain, parties: &[String], versions: u32) -> bool {
    parties.iter().all(|p| {
        chain.state().tariff_versions(p, "std").len() == versions as usize
            && chain.state().member(p).unwrap().nonce == u64::from(versions)
    })
}

/// A consortium of `validators` validators and an observer on `link`, with the first `running`
/// validators' nodes started; their party ids.
async fn start(
    context: &deterministic::Context,
    validators: usize,
    running: usize,
    dir: std::path::PathBuf,
    link: Link,
) -> (Consortium, Vec<String>) {
    let (genesis, keys) = consortium(validators);
    let mut consortium = Consortium::new(context, genesis, keys, dir, link).await;
    let started: Vec<String> = (1..=running).map(party).collect();
    for p in &started {
        consortium.start(p).await;
    }
    (consortium, started)
}

fn runtime(seed: u64) -> deterministic::Runner {
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_start_time(UNIX_EPOCH + Duration::from_millis((GENESIS_TIME + HOUR) as u64))
            .with_timeout(Some(Duration::from_secs(600))),
    )
}

/// Round `round` (from 1): each validator in `submitters` submits its next versions at the next
/// node of `at`, round robin, so that most arrive at a node other than their sender's.
fn submit_round(consortium: &Consortium, submitters: &[String], at: &[&str], round: u32) {
    for (i, sender) in submitters.iter().enumerate() {
        let versions = (round - 1) * PER_ROUND + 1..=round * PER_ROUND;
        consortium.submit(at[(i + 1) % at.len()], &tariffs(&consortium.genesis, sender, versions));
    }
}

/// Waits until every node of `parties` is at the first one's height, and asserts they all have the
/// same head block and state root there.
async fn assert_same_head(consortium: &Consortium, parties: &[&str]) {
    let height = parties.iter().map(|p| consortium.head(p).0).max().unwrap();
    consortium.wait_for(parties, Duration::from_secs(30), |chain| chain.head().height == height).await;
    let head = consortium.head(parties[0]);
    assert!(parties.iter().all(|p| consortium.head(p) == head), "heads differ");
}

fn names(parties: &[String]) -> Vec<&str> {
    parties.iter().map(String::as_str).collect()
}

#[test]
fn four_validators_and_an_observer_finalize_what_any_node_is_given() {
    let dir = scratch("consortium-four").with_file_name("");
    runtime(1).start(|context| async move {
        let (mut consortium, validators) = start(&context, 4, 4, dir, fast_link()).await;
        consortium.start("CN-OBS").await;
        let mut everyone = validators.clone();
        everyone.push("CN-OBS".into());
        let all = names(&everyone);
        // The observer is given transactions too: it forwards them to the validators.
        submit_round(&consortium, &validators, &all, 1);
        consortium.wait_for(&all, Duration::from_secs(60), |chain| holds(chain, &validators, PER_ROUND)).await;
        consortium.assert_agree(&all);
        assert_same_head(&consortium, &all).await;

        // Roles follow the registry; every validator hears the others.
        assert_eq!(consortium.nodes["CN-OBS"].health.snapshot().role, Role::Observer);
        let mut status = consortium.nodes["CN-V01"].health.snapshot();
        assert_eq!(status.role, Role::Validator);
        status.validators.sort();
        status.validators_heard.sort();
        assert_eq!(status.validators, validators);
        assert_eq!(status.validators_heard, validators);
        // The observer's certificates verify like a validator's: it checked them before committing.
        let observer = consortium.nodes["CN-OBS"].chain.lock().unwrap().store().certificate(1).unwrap();
        assert!(observer.is_some());
        consortium.stop().await;
    });
}

#[test]
fn a_crashed_validator_does_not_stop_the_chain_and_catches_up_after_restart() {
    let dir = scratch("consortium-crash").with_file_name("");
    runtime(2).start(|context| async move {
        let (mut consortium, validators) = start(&context, 4, 4, dir, fast_link()).await;
        let all = names(&validators);
        submit_round(&consortium, &validators, &all, 1);
        consortium.wait_for(&all, Duration::from_secs(60), |chain| holds(chain, &validators, PER_ROUND)).await;

        // f = 1 of 4 crashes: the other three finalize on.
        consortium.crash("CN-V04").await;
        let up = ["CN-V01", "CN-V02", "CN-V03"];
        let senders = validators[..3].to_vec();
        submit_round(&consortium, &senders, &up, 2);
        consortium.wait_for(&up, Duration::from_secs(120), |chain| holds(chain, &senders, 2 * PER_ROUND)).await;

        // Restarted, it fetches what it missed from its peers, checks it, and votes again.
        consortium.start("CN-V04").await;
        submit_round(&consortium, &validators[3..], &["CN-V04"], 2);
        consortium.wait_for(&all, Duration::from_secs(120), |chain| holds(chain, &validators, 2 * PER_ROUND)).await;
        submit_round(&consortium, &validators, &all, 3);
        consortium.wait_for(&all, Duration::from_secs(120), |chain| holds(chain, &validators, 3 * PER_ROUND)).await;
        consortium.assert_agree(&all);
        assert_same_head(&consortium, &all).await;
        consortium.stop().await;
    });
}

#[test]
fn seven_validators_survive_a_partitioned_minority_and_heal() {
    let dir = scratch("consortium-partition").with_file_name("");
    runtime(3).start(|context| async move {
        let (consortium, validators) = start(&context, 7, 7, dir, fast_link()).await;
        let all = names(&validators);
        let (minority, majority) = all.split_at(2);
        // f = 2 of 7 are cut off: the other five are a quorum and finalize on.
        consortium.partition(minority, majority).await;
        let senders = validators[2..].to_vec();
        submit_round(&consortium, &senders, majority, 1);
        consortium.wait_for(majority, Duration::from_secs(120), |chain| holds(chain, &senders, PER_ROUND)).await;
        let (cut_off, _, _) = consortium.head(minority[0]);
        assert_eq!(cut_off, 0, "the minority cannot finalize alone");

        // Healed: the minority catches up and everyone goes on together.
        consortium.heal(minority, majority).await;
        submit_round(&consortium, &validators[..2], minority, 1);
        consortium.wait_for(&all, Duration::from_secs(120), |chain| holds(chain, &validators, PER_ROUND)).await;
        consortium.assert_agree(&all);
        consortium.stop().await;
    });
}

#[test]
fn four_validators_split_in_half_stop_finalizing_and_resume_when_healed() {
    let dir = scratch("consortium-split").with_file_name("");
    runtime(4).start(|context| async move {
        let (consortium, validators) = start(&context, 4, 4, dir, fast_link()).await;
        let all = names(&validators);
        let (left, right) = all.split_at(2);
        consortium.partition(left, right).await;
        submit_round(&consortium, &validators, &all, 1);
        consortium.context.sleep(Duration::from_secs(20)).await;
        assert!(all.iter().all(|p| consortium.head(p).0 == 0), "no side has a quorum: {:?}", consortium.heads());

        consortium.heal(left, right).await;
        consortium.wait_for(&all, Duration::from_secs(120), |chain| holds(chain, &validators, PER_ROUND)).await;
        consortium.assert_agree(&all);
        consortium.stop().await;
    });
}

#[test]
fn seven_validators_finalize_over_slow_lossy_links() {
    let dir = scratch("consortium-lossy").with_file_name("");
    runtime(5).start(|context| async move {
        let link =
            Link { latency: Duration::from_millis(40), jitter: Duration::from_millis(15), success_rate: percent(85) };
        let (consortium, validators) = start(&context, 7, 7, dir, link).await;
        let all = names(&validators);
        // Each submission reaches the others only if its one message is not lost: the submitting
        // node proposes it itself when its turn comes.
        submit_round(&consortium, &validators, &all, 1);
        consortium.wait_for(&all, Duration::from_secs(300), |chain| holds(chain, &validators, PER_ROUND)).await;
        consortium.assert_agree(&all);
        consortium.stop().await;
    });
}

#[test]
fn a_peer_sending_garbage_is_blocked_and_the_chain_is_unaffected() {
    let dir = scratch("consortium-garbage").with_file_name("");
    runtime(6).start(|context| async move {
        let rogue = peer_key(&key("CN-V04"));
        let (consortium, honest) = start(&context, 4, 3, dir, fast_link()).await;
        // CN-V04's node does not run chargemesh: it sends garbage as a block, as transactions, and
        // a well-formed block it did not propose.
        let control = consortium.oracle.control(rogue.clone());
        let quota = Quota::per_second(std::num::NonZeroU32::new(1_000).unwrap());
        let [_, _, _, blocks, _, transactions] = consensus::CHANNELS;
        let (mut blocks, _blocks_in) = control.register(blocks, quota).await.unwrap();
        let (mut transactions, _transactions_in) = control.register(transactions, quota).await.unwrap();
        consortium.context.sleep(Duration::from_secs(1)).await;
        blocks.send(Recipients::One(peer_key(&key("CN-V01"))), vec![0xff; 64], false);
        transactions.send(Recipients::One(peer_key(&key("CN-V02"))), vec![0x01, 0x02], false);

        let all = names(&honest);
        submit_round(&consortium, &honest, &all, 1);
        consortium.wait_for(&all, Duration::from_secs(120), |chain| holds(chain, &honest, PER_ROUND)).await;
        consortium.assert_agree(&all);
        let blocked = consortium.oracle.blocked().await.unwrap();
        for victim in ["CN-V01", "CN-V02"] {
            assert!(
                blocked.contains(&(peer_key(&key(victim)), rogue.clone())),
                "{victim} blocked the rogue: {blocked:?}"
            );
        }

        // A block relayed by a node other than its proposer is refused before anything is kept.
        let block = consortium.nodes["CN-V01"].chain.lock().unwrap().store().block(1).unwrap().unwrap();
        {
            let mut chain = consortium.nodes["CN-V02"].chain.lock().unwrap();
            let mut ahead = block;
            ahead.header.height = chain.head().height + 1;
            assert_ne!(ahead.header.proposer, "CN-V04");
            assert!(chain.receive_block(ahead, &key("CN-V04").public_key()).is_err());
        }
        consortium.stop().await;
    });
}

#[test]
fn an_equivocating_validator_is_shut_out_and_the_others_agree() {
    let dir = scratch("consortium-equivocator").with_file_name("");
    runtime(8).start(|context| async move {
        use commonware_consensus::simplex::mocks::conflicter::{Config, Conflicter};
        use commonware_cryptography::Sha256;
        use commonware_p2p::utils::mux::Muxer;
        use commonware_runtime::Supervisor as _;
        let byzantine = peer_key(&key("CN-V04"));
        let (consortium, honest) = start(&context, 4, 3, dir, fast_link()).await;
        // CN-V04 signs, with its real validator key, a second vote for another block beside every
        // vote it sees.
        let scheme = {
            let chain = consortium.nodes["CN-V01"].chain.lock().unwrap();
            consensus::validator_scheme(chain.state(), &key("CN-V04")).unwrap()
        };
        let control = consortium.oracle.control(byzantine.clone());
        let quota = Quota::per_second(std::num::NonZeroU32::new(1_000).unwrap());
        let (sender, receiver) = control.register(consensus::CHANNELS[0], quota).await.unwrap();
        // Each epoch's votes go on a sub-channel of the votes channel numbered by the epoch.
        let (muxer, mut epochs) = Muxer::new(context.child("byzantine_mux"), sender, receiver);
        muxer.start();
        let votes = epochs.register(0).await.unwrap();
        Conflicter::<_, _, Sha256>::new(context.child("byzantine"), Config { scheme }).start(votes);

        let all = names(&honest);
        submit_round(&consortium, &honest, &all, 1);
        submit_round(&consortium, &honest, &all, 2);
        consortium.wait_for(&all, Duration::from_secs(120), |chain| holds(chain, &honest, 2 * PER_ROUND)).await;
        consortium.assert_agree(&all);
        let blocked = consortium.oracle.blocked().await.unwrap();
        assert!(blocked.iter().any(|(_, peer)| *peer == byzantine), "the equivocator was blocked: {blocked:?}");
        consortium.stop().await;
    });
}

/// CN-V04 leads its views with blocks that do not execute to the state root they claim: the honest
/// validators refuse every one, the views time out, and the honest leaders' blocks finalize every
/// transaction once, none of CN-V04's blocks among them.
#[test]
fn a_validator_proposing_invalid_blocks_is_outvoted_and_finality_resumes() {
    let dir = scratch("consortium-invalid-proposer").with_file_name("");
    runtime(10).start(|context| async move {
        let (consortium, honest) = start(&context, 4, 3, dir, fast_link()).await;
        let (misdeeds, _subchannels) = invalid_proposer::start(&consortium, "CN-V04", &key("CN-V04"), "CN-V01").await;
        let all = names(&honest);
        let mut round = 0;
        while misdeeds.proposed() < 3 {
            round += 1;
            assert!(round <= 20, "CN-V04 led no view in {round} rounds");
            submit_round(&consortium, &honest, &all, round);
            let versions = round * PER_ROUND;
            consortium.wait_for(&all, Duration::from_secs(60), |chain| holds(chain, &honest, versions)).await;
        }
        assert_same_head(&consortium, &all).await;
        consortium.assert_agree(&all);
        let proposers: Vec<String> = {
            let chain = consortium.nodes["CN-V01"].chain.lock().unwrap();
            (1..=chain.head().height).map(|h| chain.store().block(h).unwrap().unwrap().header.proposer).collect()
        };
        assert!(!proposers.iter().any(|p| p == "CN-V04"), "an invalid block was finalized: {proposers:?}");
        consortium.stop().await;
    });
}

/// Finalized blocks fetched from a peer are committed only when they execute and a certificate of
/// the chain's validators finalizes them: a wrong certificate, a tampered block or a gap changes
/// nothing.
#[test]
fn fetched_blocks_are_checked_before_they_are_committed() {
    let dir = scratch("consortium-backfill").with_file_name("");
    let source_dir = dir.clone();
    runtime(7).start(|context| async move {
        let (consortium, validators) = start(&context, 4, 4, source_dir, fast_link()).await;
        let all = names(&validators);
        submit_round(&consortium, &validators, &all, 1);
        consortium.wait_for(&all, Duration::from_secs(60), |chain| holds(chain, &validators, PER_ROUND)).await;
        consortium.stop().await;
    });
    let (genesis, _) = consortium(4);
    let source = Chain::open(&dir.join("CN-V01.redb"), genesis.clone()).unwrap();
    let (blocks, certificate) = source.segment(1).unwrap().unwrap();
    let (later, later_certificate) = source.segment(blocks.len() as u64 + 1).unwrap().unwrap();
    let mut fresh = Chain::open(&dir.join("fresh.redb"), genesis).unwrap();

    let mut tampered = blocks.clone();
    tampered[0].header.timestamp += 1;
    let mut wrong_certificate = certificate.clone();
    let last = wrong_certificate.len() - 1;
    wrong_certificate[last] ^= 1;
    let refused = [
        fresh.commit_segment(&tampered, &certificate, consensus::certified_block),
        fresh.commit_segment(&blocks, &wrong_certificate, consensus::certified_block),
        fresh.commit_segment(&blocks, &[], consensus::certified_block),
        fresh.commit_segment(&later, &later_certificate, consensus::certified_block),
        fresh.commit_segment(&blocks, &later_certificate, consensus::certified_block),
    ];
    for result in refused {
        assert!(matches!(result, Err(ChainError::BadSegment(_))), "{result:?}");
    }
    assert_eq!(fresh.head().height, 0, "nothing was committed");
    fresh.commit_segment(&blocks, &certificate, consensus::certified_block).unwrap();
    assert_eq!(fresh.head().hash(), blocks.last().unwrap().hash());
}

/// `sender`'s transaction with nonce `nonce`, in canonical bytes.
fn signed(genesis: &Genesis, sender: &str, nonce: u64, action: Action) -> Vec<u8> {
    Transaction { chain: genesis.hash(), sender: sender.into(), nonce, action }.sign(&key(sender)).encode()
}

/// Passes governance proposal `proposal` (sent by `proposer` with its nonce) with the votes of
/// `voters` (each with its nonce), all submitted at `at`, and waits until every node of `nodes`
/// has applied it.
async fn pass(
    consortium: &Consortium,
    at: &str,
    nodes: &[&str],
    (proposer, nonce, action): (&str, u64, GovernanceAction),
    proposal: u64,
    voters: &[(&str, u64)],
) {
    consortium.submit(at, &[signed(&consortium.genesis, proposer, nonce, Action::Propose(action))]);
    let proposed = |chain: &Chain| chain.state().member(proposer).unwrap().nonce == nonce;
    consortium.wait_for(nodes, Duration::from_secs(60), proposed).await;
    let votes: Vec<Vec<u8>> = voters
        .iter()
        .map(|(voter, nonce)| signed(&consortium.genesis, voter, *nonce, Action::Vote { proposal, approve: true }))
        .collect();
    consortium.submit(at, &votes);
    let (last, last_nonce) = *voters.last().unwrap();
    let voted = |chain: &Chain| chain.state().member(last).is_some_and(|m| m.nonce == last_nonce);
    consortium.wait_for(nodes, Duration::from_secs(60), voted).await;
}

/// Governance changes the validator set while the chain runs: a fifth member is admitted as a
/// validator (its node, started from the genesis, catches up and votes from the next epoch on), then
/// a founding validator is removed (its node goes on as an observer); blocks are finalized in every
/// epoch and every node holds the same chain.
#[test]
fn validators_admitted_and_removed_by_governance_take_over_at_the_epoch_boundary() {
    let dir = scratch("consortium-epochs").with_file_name("");
    runtime(9).start(|context| async move {
        let (genesis, mut keys) = consortium(4);
        keys.insert("CN-V05".into(), key("CN-V05"));
        let mut consortium = Consortium::new(&context, genesis.clone(), keys, dir, fast_link()).await;
        let founders = ["CN-V01", "CN-V02", "CN-V03", "CN-V04", "CN-OBS"];
        for p in founders {
            consortium.start(p).await;
        }
        let load = |consortium: &Consortium, at: &str, sender: &str, versions| {
            consortium.submit(at, &tariffs(&genesis, sender, versions));
        };
        load(&consortium, "CN-V01", "CN-V04", 1..=5);
        let loaded =
            |versions: usize| move |chain: &Chain| chain.state().tariff_versions("CN-V04", "std").len() == versions;
        consortium.wait_for(&founders, Duration::from_secs(60), loaded(5)).await;

        // Admitted by four of five members: epoch 1, five validators.
        let admit = GovernanceAction::AdmitMember(record("CN-V05", true, true, true));
        let voters = [("CN-V02", 1), ("CN-V03", 1), ("CN-OBS", 1)];
        pass(&consortium, "CN-V02", &founders, ("CN-V01", 1, admit), 1, &voters).await;
        consortium.wait_for(&founders, Duration::from_secs(10), |chain| chain.state().epoch() == 1).await;
        let boundary = consortium.head("CN-V01").0;
        consortium.start("CN-V05").await;
        let everyone = ["CN-V01", "CN-V02", "CN-V03", "CN-V04", "CN-V05", "CN-OBS"];
        load(&consortium, "CN-V01", "CN-V05", 1..=5);
        load(&consortium, "CN-V03", "CN-V04", 6..=10);
        consortium.wait_for(&everyone, Duration::from_secs(120), loaded(10)).await;
        let admitted = |chain: &Chain| chain.state().tariff_versions("CN-V05", "std").len() == 5;
        consortium.wait_for(&everyone, Duration::from_secs(60), admitted).await;
        let status = consortium.nodes["CN-V05"].health.snapshot();
        assert_eq!((status.epoch, status.role, status.validators.len()), (1, Role::Validator, 5), "{status:?}");
        // The newcomer leads views of its own: blocks proposed one at a time, one of them is its.
        let proposed_by_newcomer = |consortium: &Consortium| {
            let chain = consortium.nodes["CN-V02"].chain.lock().unwrap();
            (boundary + 1..=chain.head().height)
                .any(|h| chain.store().block(h).unwrap().unwrap().header.proposer == "CN-V05")
        };
        let mut versions = 10;
        while !proposed_by_newcomer(&consortium) {
            assert!(versions < 30, "CN-V05 proposed no block of epoch 1");
            versions += 1;
            load(&consortium, "CN-V01", "CN-V04", versions..=versions);
            consortium.wait_for(&everyone, Duration::from_secs(60), loaded(versions as usize)).await;
        }
        consortium.assert_agree(&everyone);

        // CN-V01 removed by five of six (itself included): epoch 2, CN-V02…CN-V05 validate.
        let remove = GovernanceAction::RemoveMember { party_id: "CN-V01".into() };
        let voters = [("CN-V03", 2), ("CN-OBS", 2), ("CN-V05", 6), ("CN-V01", 2)];
        pass(&consortium, "CN-V03", &everyone, ("CN-V02", 2, remove), 2, &voters).await;
        consortium.wait_for(&everyone, Duration::from_secs(10), |chain| chain.state().epoch() == 2).await;
        load(&consortium, "CN-V02", "CN-V04", versions + 1..=versions + 10);
        consortium.wait_for(&everyone, Duration::from_secs(120), loaded(versions as usize + 10)).await;
        let status = consortium.nodes["CN-V01"].health.snapshot();
        assert_eq!((status.epoch, status.role, status.validators.len()), (2, Role::Observer, 4), "{status:?}");
        assert_same_head(&consortium, &everyone).await;
        consortium.assert_agree(&everyone);
        consortium.stop().await;
    });
}

/// A validator's key is rotated by governance while the chain runs: from the epoch it opens, the
/// node still on the old key only follows; restarted on the new key it votes and proposes again,
/// and the member's transactions are taken with the new key's signature only.
#[test]
fn a_rotated_validator_key_takes_over_at_the_epoch_boundary() {
    let dir = scratch("consortium-rotation").with_file_name("");
    runtime(11).start(|context| async move {
        let (genesis, mut keys) = consortium(4);
        let rotated = MemberKey::from_seed(chargemesh_ledger::hash_parts("test-key-rotated", &[b"CN-V04"]));
        keys.insert("CN-V04 rotated".into(), MemberKey::from_seed(rotated.seed()));
        let mut consortium = Consortium::new(&context, genesis.clone(), keys, dir, fast_link()).await;
        let nodes = ["CN-V01", "CN-V02", "CN-V03", "CN-V04", "CN-OBS"];
        for p in nodes {
            consortium.start(p).await;
        }
        let loaders = vec![party(2), party(3)];
        submit_round(&consortium, &loaders, &nodes, 1);
        consortium.wait_for(&nodes, Duration::from_secs(60), |chain| holds(chain, &loaders, PER_ROUND)).await;

        // Proposed by CN-V04 itself, passed by four of five members: epoch 1.
        let rotate = GovernanceAction::RotateKey { party_id: "CN-V04".into(), public_key: rotated.public_key() };
        let voters = [("CN-V01", 1), ("CN-OBS", 1), ("CN-V02", u64::from(PER_ROUND) + 1)];
        pass(&consortium, "CN-V01", &nodes, ("CN-V04", 1, rotate), 1, &voters).await;
        consortium.wait_for(&nodes, Duration::from_secs(10), |chain| chain.state().epoch() == 1).await;
        let boundary = consortium.head("CN-V01").0;
        let status = consortium.nodes["CN-V04"].health.snapshot();
        assert_eq!((status.epoch, status.role), (1, Role::Observer), "the old key no longer votes: {status:?}");

        // Three of epoch 1's four validators run: the chain goes on while CN-V04 is on its old key.
        let v03_holds =
            |n: u32| move |chain: &Chain| chain.state().tariff_versions("CN-V03", "std").len() == n as usize;
        let mut version = PER_ROUND + 5;
        consortium.submit("CN-V02", &tariffs(&genesis, "CN-V03", PER_ROUND + 1..=version));
        consortium.wait_for(&nodes, Duration::from_secs(60), v03_holds(version)).await;

        consortium.crash("CN-V04").await;
        consortium.rekey("CN-V04", "CN-V04 rotated");
        consortium.start("CN-V04").await;
        let now = consensus_now(&context);
        let signed_with_old_key = tariff_by("CN-V04", &key("CN-V04"), &genesis, 2, 1);
        let refused = consortium.nodes["CN-V04"].chain.lock().unwrap().submit(&signed_with_old_key, now);
        assert!(refused.is_err(), "a transaction signed with the old key was admitted");
        consortium.submit("CN-V04", &[tariff_by("CN-V04", &rotated, &genesis, 2, 1)]);
        let proposed_by_v04 = |consortium: &Consortium| {
            let chain = consortium.nodes["CN-V02"].chain.lock().unwrap();
            (boundary + 1..=chain.head().height)
                .any(|h| chain.store().block(h).unwrap().unwrap().header.proposer == "CN-V04")
        };
        while !proposed_by_v04(&consortium) {
            assert!(version < PER_ROUND + 30, "CN-V04 proposed no block on its new key");
            version += 1;
            consortium.submit("CN-V03", &tariffs(&genesis, "CN-V03", version..=version));
            consortium.wait_for(&nodes, Duration::from_secs(60), v03_holds(version)).await;
        }
        let published = |chain: &Chain| chain.state().tariff_versions("CN-V04", "std").len() == 1;
        consortium.wait_for(&nodes, Duration::from_secs(60), published).await;
        let status = consortium.nodes["CN-V04"].health.snapshot();
        assert_eq!((status.epoch, status.role), (1, Role::Validator), "{status:?}");
        assert_same_head(&consortium, &nodes).await;
        consortium.assert_agree(&nodes);
        consortium.stop().await;
    });
}

/// `party`'s tariff version `version` as its transaction `nonce`, signed with `signer`.
fn tariff_by(party: &str, signer: &MemberKey, genesis: &Genesis, nonce: u64, version: u32) -> Vec<u8> {
    let tariff = tariff(party, version, GENESIS_TIME + DAY + i64::from(version) * HOUR);
    Transaction { chain: genesis.hash(), sender: party.into(), nonce, action: publish(&tariff) }.sign(signer).encode()
}
