//! Netting: the transfers settle every position exactly, nobody both pays and receives, and there
//! are as few transfers as possible (checked against a brute-force search on small consortia).

use chargemesh_ledger::netting::{NetTransfer, positions, settle};
use proptest::prelude::*;
use std::collections::BTreeMap;

const PARTIES: [&str; 7] = ["CN-AAA", "CN-BBB", "CN-CCC", "CN-DDD", "CN-EEE", "CN-FFF", "CN-GGG"];

/// The fewest transfers by brute force: members minus the most zero-sum groups they split into.
fn fewest(values: &[i64]) -> usize {
    fn most_groups(values: &[i64], groups: &mut Vec<i64>, i: usize) -> usize {
        if i == values.len() {
            return if groups.iter().all(|g| *g == 0) { groups.len() } else { 0 };
        }
        let mut best = 0;
        for g in 0..groups.len() {
            groups[g] += values[i];
            best = best.max(most_groups(values, groups, i + 1));
            groups[g] -= values[i];
        }
        groups.push(values[i]);
        best = best.max(most_groups(values, groups, i + 1));
        groups.pop();
        best
    }
    if values.is_empty() { 0 } else { values.len() - most_groups(values, &mut Vec::new(), 0) }
}

fn check(obligations: &[(usize, usize, i64)]) -> Vec<NetTransfer> {
    let owed = positions(obligations.iter().map(|&(d, c, a)| (PARTIES[d], PARTIES[c], a)));
    let transfers = settle(&owed);
    let mut after: BTreeMap<String, i64> = owed.clone();
    for t in &transfers {
        assert!(t.amount > 0);
        *after.get_mut(&t.from).unwrap() += t.amount;
        *after.get_mut(&t.to).unwrap() -= t.amount;
        assert!(owed[&t.from] < 0 && owed[&t.to] > 0, "{} pays and {} receives", t.from, t.to);
    }
    assert!(after.values().all(|p| *p == 0), "the transfers settle every position: {after:?}");
    let values: Vec<i64> = owed.values().copied().collect();
    assert_eq!(transfers.len(), fewest(&values), "{owed:?} -> {transfers:?}");
    transfers
}

#[test]
fn a_chain_of_debts_is_one_transfer() {
    let transfers = check(&[(0, 1, 100), (1, 2, 100)]);
    assert_eq!(transfers, [NetTransfer { from: "CN-AAA".into(), to: "CN-CCC".into(), amount: 100 }]);
}

#[test]
fn separate_zero_sum_groups_settle_separately() {
    // A owes 3 to D; B and C owe 4 and 5 to E and F 4 and 5... positions -3,-4,-5,+3,+4,+5: three transfers.
    assert_eq!(check(&[(0, 3, 3), (1, 4, 4), (2, 5, 5)]).len(), 3);
    // Greedy by size alone would pair -5 with +6 first and need four.
    assert_eq!(
        check(&[(0, 4, 5), (1, 4, 1), (1, 5, 3), (2, 6, 2), (3, 6, 2)]).len(),
        fewest(&[-5, -4, -2, -2, 6, 3, 4])
    );
}

proptest! {
    #[test]
    fn transfers_settle_obligations_exactly_and_fewest(
        obligations in prop::collection::vec((0usize..7, 0usize..7, 1i64..1_000), 0..14)
    ) {
        let obligations: Vec<_> = obligations.into_iter().filter(|(d, c, _)| d != c).collect();
        check(&obligations);
    }
}
