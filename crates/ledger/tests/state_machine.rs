//! The state machine's rules, one by one: each accepted case and each rejection reason, and that a
//! rejected transaction changes nothing.

mod common;

use chargemesh_ledger::state::{CdrStatus, Event, Parameters, Rejection};
use chargemesh_ledger::transaction::{Action, DisputeReason, GovernanceAction, LifecycleEvent, MemberRecord};
use chargemesh_ledger::{MemberKey, Transaction, hash_parts};
use common::*;

const EVSE: &str = "CN*AAA*E1*1";

#[test]
fn a_transaction_needs_the_right_chain_nonce_and_signature() {
    let mut ledger = Ledger::three_members();
    let action = || Action::RegisterCharger(identity("CN*AAA*E9*1"));
    let mut tx = ledger.signed("CN-AAA", action());
    tx.transaction.nonce = 5;
    let context = |tx: &chargemesh_ledger::SignedTransaction| chargemesh_ledger::state::Context {
        height: 2,
        timestamp: GENESIS_TIME,
        transaction: tx.id(),
    };
    assert_eq!(ledger.state.apply(&tx, context(&tx)), Err(Rejection::BadNonce { expected: 1, got: 5 }));
    let forged = Transaction { chain: ledger.state.chain(), sender: "CN-AAA".into(), nonce: 1, action: action() }
        .sign(&key("CN-BBB"));
    assert_eq!(ledger.state.apply(&forged, context(&forged)), Err(Rejection::BadSignature));
    let elsewhere =
        Transaction { chain: [7; 32], sender: "CN-AAA".into(), nonce: 1, action: action() }.sign(&key("CN-AAA"));
    assert_eq!(ledger.state.apply(&elsewhere, context(&elsewhere)), Err(Rejection::WrongChain));
    let stranger = Transaction { chain: ledger.state.chain(), sender: "CN-ZZZ".into(), nonce: 1, action: action() }
        .sign(&key("CN-ZZZ"));
    assert_eq!(ledger.state.apply(&stranger, context(&stranger)), Err(Rejection::UnknownSender("CN-ZZZ".into())));

    let good = ledger.signed("CN-AAA", action());
    ledger.state.apply(&good, context(&good)).unwrap();
    // The same transaction again is a replay.
    assert_eq!(ledger.state.apply(&good, context(&good)), Err(Rejection::BadNonce { expected: 2, got: 1 }));
}

#[test]
fn chargers_have_one_owner_and_a_life_that_ends() {
    let mut ledger = with_charger();
    assert_eq!(
        ledger.refused("CN-CCC", Action::RegisterCharger(identity("CN*CCC*E1*1"))),
        Rejection::MissingRole("cpo")
    );
    assert_eq!(
        ledger.refused("CN-BBB", Action::RegisterCharger(identity(EVSE))),
        Rejection::ChargerExists(EVSE.into())
    );
    let mut bad = identity("CN*AAA*E2*1");
    bad.time_zone = "Mars/Olympus".into();
    assert_eq!(ledger.refused("CN-AAA", Action::RegisterCharger(bad)).code(), "invalid_field");
    let repaired = || Action::ChargerLifecycle { evse_id: EVSE.into(), event: LifecycleEvent::Repaired };
    assert!(matches!(ledger.refused("CN-BBB", repaired()), Rejection::NotOwner { .. }));
    let again = Action::ChargerLifecycle { evse_id: EVSE.into(), event: LifecycleEvent::Installed };
    assert_eq!(ledger.refused("CN-AAA", again).code(), "charger_state");
    let stale = LifecycleEvent::Calibrated { certificate: "CAL-0".into(), expires_at: GENESIS_TIME };
    assert_eq!(
        ledger.refused("CN-AAA", Action::ChargerLifecycle { evse_id: EVSE.into(), event: stale }).code(),
        "invalid_field"
    );

    ledger.send("CN-AAA", repaired()).unwrap();
    let moved = LifecycleEvent::Relocated { time_zone: "Asia/Urumqi".into() };
    ledger.send("CN-AAA", Action::ChargerLifecycle { evse_id: EVSE.into(), event: moved }).unwrap();
    ledger
        .send("CN-AAA", Action::ChargerLifecycle { evse_id: EVSE.into(), event: LifecycleEvent::Decommissioned })
        .unwrap();
    assert_eq!(ledger.refused("CN-AAA", repaired()).code(), "charger_state");
    let charger = ledger.state.charger(EVSE).unwrap();
    assert_eq!(charger.history.len(), 5, "installed, calibrated, repaired, relocated, decommissioned");
    assert_eq!(charger.time_zone_at(ledger.now - 1), "Asia/Shanghai");
    assert_eq!(charger.time_zone_at(ledger.now), "Asia/Urumqi");
}

#[test]
fn tariffs_are_versioned_by_their_owner_and_never_retroactive() {
    let mut ledger = with_charger();
    let later = GENESIS_TIME + 10 * DAY;
    assert!(matches!(ledger.refused("CN-BBB", publish(&tariff("CN-AAA", 2, later))), Rejection::InvalidTariff(_)));
    assert!(ledger.refused("CN-AAA", publish(&tariff("CN-AAA", 3, later))).to_string().contains("not the next one"));
    let mut negative = tariff("CN-AAA", 2, later);
    negative.elements[1].components[0].price = chargemesh_core::money::Price::from_micros(-1_000_000);
    assert!(matches!(ledger.refused("CN-AAA", publish(&negative)), Rejection::InvalidTariff(_)));
    assert!(matches!(
        ledger.refused("CN-AAA", Action::PublishTariff { tariff_json: "{".into() }),
        Rejection::InvalidTariff(_)
    ));
    ledger.send("CN-AAA", publish(&tariff("CN-AAA", 2, later))).unwrap();
    assert_eq!(ledger.state.tariff_versions("CN-AAA", "std").len(), 2);
    assert_eq!(ledger.state.tariff_in_force("CN-AAA", "std", later - 1).unwrap().tariff.version, 1);
    assert_eq!(ledger.state.tariff_in_force("CN-AAA", "std", later).unwrap().tariff.version, 2);

    // A version valid from the past takes effect when it is published, not before.
    let published = later + DAY;
    ledger.now = published;
    ledger.send("CN-AAA", publish(&tariff("CN-AAA", 3, later + HOUR))).unwrap();
    assert_eq!(ledger.state.tariff_in_force("CN-AAA", "std", published - 1).unwrap().tariff.version, 2);
    assert_eq!(ledger.state.tariff_in_force("CN-AAA", "std", published).unwrap().tariff.version, 3);
}

#[test]
fn a_cdr_is_anchored_only_at_the_price_the_ledger_computes() {
    let mut ledger = with_charger();
    let v1 = tariff("CN-AAA", 1, GENESIS_TIME + HOUR);
    // 17:00-19:00 Shanghai: one hour flat, one hour peak.
    let start = GENESIS_TIME + 9 * HOUR;
    let good = anchor("CDR-1", "CN-BBB", start, &v1);
    ledger.now = start + HOUR;
    assert_eq!(ledger.refused("CN-AAA", Action::AnchorCdr(good.clone())).code(), "invalid_periods", "not ended yet");
    ledger.now = GENESIS_TIME + 12 * HOUR;
    assert_eq!(good.claimed.incl_tax, 30 * 150 + 30 * 200, "30 kWh at 1.50 and 30 kWh at 2.00, in fen");

    let mut wrong = good.clone();
    wrong.claimed.service_fee += 1;
    let rejection = ledger.refused("CN-AAA", Action::AnchorCdr(wrong));
    assert_eq!(rejection, Rejection::PriceDiffers("service_fee 3001 claimed, 3000 computed".into()));
    let mut cheaper = good.clone();
    cheaper.periods[1].energy_mwh -= 1_000_000;
    assert_eq!(ledger.refused("CN-AAA", Action::AnchorCdr(cheaper)).code(), "price_differs");
    let mut unknown = good.clone();
    unknown.tariff_version = 9;
    assert_eq!(ledger.refused("CN-AAA", Action::AnchorCdr(unknown)).code(), "unknown_tariff");
    let mut overlapping = good.clone();
    overlapping.periods[1].start -= 1;
    assert_eq!(ledger.refused("CN-AAA", Action::AnchorCdr(overlapping)).code(), "invalid_periods");
    assert!(matches!(ledger.refused("CN-BBB", Action::AnchorCdr(good.clone())), Rejection::NotOwner { .. }));
    let mut no_emsp = good.clone();
    no_emsp.emsp = "CN-ZZZ".into();
    assert_eq!(ledger.refused("CN-AAA", Action::AnchorCdr(no_emsp)).code(), "unknown_member");

    let events = ledger.send("CN-AAA", Action::AnchorCdr(good.clone())).unwrap();
    assert_eq!(events, [Event::CdrAnchored { cpo: "CN-AAA".into(), cdr_id: "CDR-1".into(), obligation: 10_500 }]);
    assert_eq!(ledger.refused("CN-AAA", Action::AnchorCdr(good.clone())), Rejection::AlreadyAnchored("CDR-1".into()));
    let owed: Vec<_> = ledger.state.open_obligations().collect();
    assert_eq!(owed, [(0, "CNY", "CN-BBB", "CN-AAA", 10_500)]);

    // A newer version in force: the old one no longer prices new sessions.
    let v2 = tariff("CN-AAA", 2, GENESIS_TIME + 2 * DAY);
    ledger.send("CN-AAA", publish(&v2)).unwrap();
    ledger.now = GENESIS_TIME + 4 * DAY;
    let late = anchor("CDR-2", "CN-BBB", GENESIS_TIME + 3 * DAY, &v1);
    assert_eq!(
        ledger.refused("CN-AAA", Action::AnchorCdr(late)),
        Rejection::TariffNotInForce { claimed: 1, in_force: "version 2".into() }
    );
    // A member's own driver: anchored, nothing owed.
    let own = anchor("CDR-3", "CN-AAA", GENESIS_TIME + 3 * DAY, &v2);
    assert_eq!(
        ledger.send("CN-AAA", Action::AnchorCdr(own)).unwrap()[0],
        Event::CdrAnchored { cpo: "CN-AAA".into(), cdr_id: "CDR-3".into(), obligation: 0 }
    );
}

#[test]
fn a_charger_out_of_service_or_out_of_calibration_anchors_nothing() {
    let mut ledger = with_charger();
    let v1 = tariff("CN-AAA", 1, GENESIS_TIME + HOUR);
    let after_expiry = anchor("CDR-1", "CN-BBB", GENESIS_TIME + 366 * DAY, &v1);
    ledger.now = GENESIS_TIME + 367 * DAY;
    assert_eq!(ledger.refused("CN-AAA", Action::AnchorCdr(after_expiry)).code(), "calibration_expired");
    ledger
        .send("CN-AAA", Action::ChargerLifecycle { evse_id: EVSE.into(), event: LifecycleEvent::Decommissioned })
        .unwrap();
    let zombie = anchor("CDR-2", "CN-BBB", GENESIS_TIME + 2 * DAY, &v1);
    assert_eq!(ledger.refused("CN-AAA", Action::AnchorCdr(zombie)).code(), "charger_state");
}

#[test]
fn disputes_hold_a_charge_out_of_clearing_until_both_agree() {
    let mut ledger = with_charger();
    let v1 = tariff("CN-AAA", 1, GENESIS_TIME + HOUR);
    ledger.now = GENESIS_TIME + 5 * HOUR;
    ledger.send("CN-AAA", Action::AnchorCdr(anchor("CDR-1", "CN-BBB", GENESIS_TIME + 2 * HOUR, &v1))).unwrap();
    let dispute =
        || Action::DisputeCdr { cpo: "CN-AAA".into(), cdr_id: "CDR-1".into(), reason: DisputeReason::ChargerFault };
    assert_eq!(ledger.refused("CN-CCC", dispute()).code(), "dispute");
    ledger.send("CN-BBB", dispute()).unwrap();
    assert_eq!(ledger.refused("CN-BBB", dispute()).code(), "dispute");
    assert_eq!(ledger.state.open_obligations().count(), 0, "the disputed charge is held out");

    let resolve = |amount| Action::ResolveCdr { cpo: "CN-AAA".into(), cdr_id: "CDR-1".into(), agreed_incl_tax: amount };
    assert_eq!(ledger.refused("CN-BBB", resolve(1_000_000)).code(), "dispute");
    ledger.send("CN-BBB", resolve(4_000)).unwrap();
    ledger.send("CN-AAA", resolve(5_000)).unwrap();
    assert!(matches!(ledger.state.cdr("CN-AAA", "CDR-1").unwrap().status, CdrStatus::Disputed { .. }));
    let events = ledger.send("CN-BBB", resolve(5_000)).unwrap();
    assert!(matches!(events[0], Event::CdrResolved { agreed_incl_tax: 5_000, .. }));
    let owed: Vec<_> = ledger.state.open_obligations().collect();
    assert_eq!(owed, [(0, "CNY", "CN-BBB", "CN-AAA", 5_000)]);

    ledger.now += 3 * DAY;
    let late = anchor("CDR-2", "CN-BBB", GENESIS_TIME + 2 * DAY, &v1);
    ledger.send("CN-AAA", Action::AnchorCdr(late)).unwrap();
    ledger.now += 2 * DAY;
    let too_late = Action::DisputeCdr { cpo: "CN-AAA".into(), cdr_id: "CDR-2".into(), reason: DisputeReason::Other };
    assert!(ledger.refused("CN-BBB", too_late).to_string().contains("window"));
}

#[test]
fn clearing_nets_a_period_into_transfers_that_settle_it_exactly() {
    let mut ledger = with_charger();
    ledger.send("CN-BBB", Action::RegisterCharger(identity("CN*BBB*E1*1"))).unwrap();
    let v1 = tariff("CN-AAA", 1, GENESIS_TIME + HOUR);
    // B's and C's drivers charge at A: both owe A.
    ledger.now = GENESIS_TIME + 7 * HOUR;
    ledger.send("CN-AAA", Action::AnchorCdr(anchor("CDR-1", "CN-BBB", GENESIS_TIME + 2 * HOUR, &v1))).unwrap();
    ledger.send("CN-AAA", Action::AnchorCdr(anchor("CDR-2", "CN-CCC", GENESIS_TIME + 4 * HOUR, &v1))).unwrap();
    let close = |period| Action::CloseClearing { period };
    assert!(ledger.refused("CN-CCC", close(0)).to_string().contains("closes once"));
    let (period, closable_at) = ledger.state.next_clearing();
    let window = ledger.state.parameters().dispute_window_ms;
    assert_eq!((period, closable_at), (0, GENESIS_TIME + DAY + window), "daily periods");
    assert!(ledger.state.closable_periods(closable_at - 1).is_empty());
    assert_eq!(ledger.state.closable_periods(closable_at), 0..1);
    assert_eq!(ledger.state.closable_periods(closable_at + DAY), 0..2);
    ledger.now = GENESIS_TIME + 2 * DAY;
    assert!(ledger.refused("CN-CCC", close(1)).to_string().contains("next to close"));
    let events = ledger.send("CN-CCC", close(0)).unwrap();
    assert_eq!(events, [Event::ClearingClosed { period: 0, transfers: 2 }]);
    let clearing = ledger.state.clearing(0).unwrap();
    let moved: Vec<_> = clearing.transfers.iter().map(|t| (t.from.as_str(), t.to.as_str(), t.amount)).collect();
    assert_eq!(moved, [("CN-BBB", "CN-AAA", 9_000), ("CN-CCC", "CN-AAA", 9_000)]);
    assert_eq!(ledger.state.open_obligations().count(), 0);

    assert_eq!(ledger.refused("CN-AAA", Action::ConfirmPaid { period: 0, transfer: 0 }).code(), "clearing");
    ledger.send("CN-BBB", Action::ConfirmPaid { period: 0, transfer: 0 }).unwrap();
    ledger.send("CN-AAA", Action::ConfirmReceived { period: 0, transfer: 0 }).unwrap();
    assert_eq!(ledger.refused("CN-AAA", Action::ConfirmReceived { period: 0, transfer: 0 }).code(), "clearing");
    let transfer = &ledger.state.clearing(0).unwrap().transfers[0];
    assert!(transfer.paid && transfer.received);
}

#[test]
fn governance_needs_more_than_two_thirds_of_the_members() {
    let mut ledger = Ledger::three_members();
    let newcomer: MemberRecord = record("CN-DDD", true, true, true);
    let admit = Action::Propose(GovernanceAction::AdmitMember(newcomer.clone()));
    assert_eq!(ledger.send("CN-AAA", admit).unwrap(), [Event::Proposed { proposal: 1 }]);
    assert_eq!(ledger.refused("CN-AAA", Action::Vote { proposal: 1, approve: true }), Rejection::AlreadyVoted(1));
    assert_eq!(
        ledger.send("CN-BBB", Action::Vote { proposal: 1, approve: true }).unwrap(),
        [Event::Voted { proposal: 1 }]
    );
    assert!(ledger.state.member("CN-DDD").is_none(), "two of three is not more than two thirds");
    let passed = ledger.send("CN-CCC", Action::Vote { proposal: 1, approve: true }).unwrap();
    assert_eq!(passed, [Event::Voted { proposal: 1 }, Event::ProposalPassed { proposal: 1 }]);
    assert!(ledger.state.member("CN-DDD").unwrap().record.validator);

    // Four members: one against of four leaves three, which is enough; two against sink it.
    let remove = Action::Propose(GovernanceAction::RemoveMember { party_id: "CN-CCC".into() });
    ledger.send("CN-AAA", remove).unwrap();
    ledger.send("CN-CCC", Action::Vote { proposal: 2, approve: false }).unwrap();
    let sunk = ledger.send("CN-DDD", Action::Vote { proposal: 2, approve: false }).unwrap();
    assert_eq!(sunk.last(), Some(&Event::ProposalRejected { proposal: 2 }));
    assert_eq!(ledger.refused("CN-BBB", Action::Vote { proposal: 2, approve: true }), Rejection::UnknownProposal(2));

    let twice = Action::Propose(GovernanceAction::AdmitMember(newcomer));
    assert_eq!(ledger.refused("CN-AAA", twice).code(), "governance");
    let stolen_key = record("CN-EEE", true, true, false);
    let stolen_key = MemberRecord { public_key: key("CN-AAA").public_key(), ..stolen_key };
    assert_eq!(
        ledger.refused("CN-AAA", Action::Propose(GovernanceAction::AdmitMember(stolen_key))).code(),
        "governance"
    );
}

#[test]
fn a_rotated_key_signs_from_then_on() {
    let genesis = genesis(vec![record("CN-AAA", true, true, true)]);
    let mut ledger =
        Ledger { state: chargemesh_ledger::State::from_genesis(&genesis).unwrap(), now: GENESIS_TIME, height: 1 };
    let fresh = chargemesh_ledger::MemberKey::from_seed(hash_parts("fresh", &[]));
    let rotate = GovernanceAction::RotateKey { party_id: "CN-AAA".into(), public_key: fresh.public_key() };
    // A consortium of one decides alone.
    assert_eq!(
        ledger.send("CN-AAA", Action::Propose(rotate)).unwrap().last(),
        Some(&Event::ProposalPassed { proposal: 1 })
    );
    assert_eq!(ledger.refused("CN-AAA", Action::RegisterCharger(identity("CN*AAA*E1*1"))), Rejection::BadSignature);
    let tx = Transaction {
        chain: ledger.state.chain(),
        sender: "CN-AAA".into(),
        nonce: 2,
        action: Action::RegisterCharger(identity("CN*AAA*E1*1")),
    }
    .sign(&fresh);
    let context = chargemesh_ledger::state::Context { height: 3, timestamp: GENESIS_TIME, transaction: tx.id() };
    ledger.state.apply(&tx, context).unwrap();
}

#[test]
fn every_change_to_the_validator_set_opens_an_epoch() {
    let mut ledger = Ledger::three_members();
    assert_eq!(ledger.state.epoch(), 0);
    // Proposed by A, approved by every other active member.
    let mut pass = |action: GovernanceAction| {
        let proposal = match ledger.send("CN-AAA", Action::Propose(action)).unwrap()[0] {
            Event::Proposed { proposal } => proposal,
            ref other => panic!("{other:?}"),
        };
        let voters: Vec<String> =
            ledger.state.members().filter(|m| m.active).map(|m| m.record.party_id.clone()).collect();
        // Votes after the proposal passed are refused (it is gone): that is fine here.
        for voter in voters.iter().filter(|v| *v != "CN-AAA") {
            let _ = ledger.send(voter, Action::Vote { proposal, approve: true });
        }
        let validators: Vec<String> = ledger.state.validators().map(|m| m.record.party_id.clone()).collect();
        (ledger.state.epoch(), validators)
    };
    // A member that does not validate changes members, not validators.
    assert_eq!(pass(GovernanceAction::AdmitMember(record("CN-OBS", false, false, false))), (0, vec!["CN-AAA".into()]));
    let admitted = pass(GovernanceAction::AdmitMember(record("CN-DDD", true, true, true)));
    assert_eq!(admitted, (1, vec!["CN-AAA".into(), "CN-DDD".into()]));
    let promoted = pass(GovernanceAction::SetValidator { party_id: "CN-BBB".into(), validator: true });
    assert_eq!(promoted, (2, vec!["CN-AAA".into(), "CN-BBB".into(), "CN-DDD".into()]));
    let parameters = Parameters { max_block_transactions: 500, ..Parameters::default() };
    assert_eq!(pass(GovernanceAction::SetParameters(parameters)).0, 2);
    let removed = pass(GovernanceAction::RemoveMember { party_id: "CN-DDD".into() });
    assert_eq!(removed, (3, vec!["CN-AAA".into(), "CN-BBB".into()]));
    // A key rotated: the same validators, but another key votes for one of them.
    let fresh = MemberKey::from_seed(hash_parts("fresh", &[]));
    assert_eq!(pass(GovernanceAction::RotateKey { party_id: "CN-CCC".into(), public_key: fresh.public_key() }).0, 3);
    let fresh = MemberKey::from_seed(hash_parts("fresher", &[]));
    assert_eq!(pass(GovernanceAction::RotateKey { party_id: "CN-BBB".into(), public_key: fresh.public_key() }).0, 4);
}

#[test]
fn founding_tariffs_apply_from_their_own_valid_from_and_are_checked_with_the_genesis() {
    let members = vec![record("CN-AAA", true, true, true), record("CN-BBB", true, true, false)];
    let plain = genesis(members.clone());
    let before_the_chain = GENESIS_TIME - 30 * DAY;
    let founding = tariff("CN-AAA", 1, before_the_chain);
    let with_tariff =
        chargemesh_ledger::Genesis { tariffs: vec![serde_json::to_string(&founding).unwrap()], ..plain.clone() };
    assert_ne!(with_tariff.hash(), plain.hash(), "the founding tariffs are part of the chain's identity");
    let state = chargemesh_ledger::State::from_genesis(&with_tariff).unwrap();
    // A charge that began before the consortium formed is priced by the tariff its member had then.
    let in_force = state.tariff_in_force("CN-AAA", "std", before_the_chain).unwrap();
    assert_eq!((in_force.tariff.version, in_force.published_at_height), (1, 0));
    assert!(state.tariff_in_force("CN-AAA", "std", before_the_chain - 1).is_none());

    let mut ledger = Ledger { state, now: GENESIS_TIME + HOUR, height: 1 };
    ledger.send("CN-AAA", Action::RegisterCharger(identity(EVSE))).unwrap();
    ledger.send("CN-AAA", Action::ChargerLifecycle { evse_id: EVSE.into(), event: LifecycleEvent::Installed }).unwrap();
    let calibrated = LifecycleEvent::Calibrated { certificate: "CAL-1".into(), expires_at: GENESIS_TIME + 365 * DAY };
    ledger.send("CN-AAA", Action::ChargerLifecycle { evse_id: EVSE.into(), event: calibrated }).unwrap();
    let started = GENESIS_TIME - 3 * HOUR;
    ledger.send("CN-AAA", Action::AnchorCdr(anchor("C-1", "CN-BBB", started, &founding))).unwrap();
    assert!(
        ledger.refused("CN-AAA", publish(&tariff("CN-AAA", 1, GENESIS_TIME))).to_string().contains("not the next one")
    );

    let refused = |tariffs: Vec<chargemesh_core::tariff::Tariff>| {
        let json = tariffs.iter().map(|t| serde_json::to_string(t).unwrap()).collect();
        chargemesh_ledger::Genesis { tariffs: json, ..plain.clone() }.check().unwrap_err()
    };
    assert!(refused(vec![tariff("CN-ZZZ", 1, GENESIS_TIME)]).contains("no founding member"));
    assert!(refused(vec![tariff("CN-AAA", 2, GENESIS_TIME)]).contains("not the next one"));
    let mut invalid = tariff("CN-AAA", 1, GENESIS_TIME);
    invalid.elements.clear();
    assert!(refused(vec![invalid]).starts_with("tariffs[0]"));
}
