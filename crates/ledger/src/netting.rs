//! Multilateral netting: a period's obligations between members reduced to the fewest transfers
//! that settle them exactly. Each member's net position is what it is owed minus what it owes; a
//! member only pays or only receives. The fewest transfers is the number of members with a non-zero
//! position minus the most groups they split into whose positions sum to zero (each group of k
//! settles in k − 1 transfers); that split is found exactly for up to [`EXACT_LIMIT`] members with a
//! position, and greedily beyond. Deterministic: ties are broken by party id.

use std::collections::BTreeMap;

/// Up to this many members with a non-zero position the fewest transfers are found exactly.
pub const EXACT_LIMIT: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetTransfer {
    pub from: String,
    pub to: String,
    pub amount: i64,
}

/// Net positions: positive when a member is owed money. Obligations are (debtor, creditor, amount).
pub fn positions<'a>(obligations: impl IntoIterator<Item = (&'a str, &'a str, i64)>) -> BTreeMap<String, i64> {
    let mut positions: BTreeMap<String, i64> = BTreeMap::new();
    for (debtor, creditor, amount) in obligations {
        *positions.entry(debtor.to_owned()).or_default() -= amount;
        *positions.entry(creditor.to_owned()).or_default() += amount;
    }
    positions.retain(|_, p| *p != 0);
    positions
}

/// The transfers that settle `positions` (which sum to zero).
pub fn settle(positions: &BTreeMap<String, i64>) -> Vec<NetTransfer> {
    let members: Vec<(&String, i64)> = positions.iter().filter(|(_, p)| **p != 0).map(|(m, p)| (m, *p)).collect();
    let groups =
        if members.len() <= EXACT_LIMIT { zero_sum_groups(&members) } else { vec![(0..members.len()).collect()] };
    let mut transfers = Vec::new();
    for group in groups {
        transfers.extend(settle_group(group.iter().map(|&i| members[i])));
    }
    transfers
}

/// Splits the members into as many groups summing to zero as possible (dynamic programming over
/// subsets: best[mask] is the most zero-sum groups that `mask` splits into, when it sums to zero).
fn zero_sum_groups(members: &[(&String, i64)]) -> Vec<Vec<usize>> {
    let n = members.len();
    if n == 0 {
        return Vec::new();
    }
    let full = (1usize << n) - 1;
    let mut sum = vec![0i64; 1 << n];
    for mask in 1..=full {
        let low = mask.trailing_zeros() as usize;
        sum[mask] = sum[mask & (mask - 1)] + members[low].1;
    }
    // best[mask]: the most zero-sum groups a zero-sum `mask` splits into; built by adding one
    // member at a time, a group closing whenever the running set sums to zero.
    let mut best = vec![0u8; 1 << n];
    let mut from = vec![usize::MAX; 1 << n];
    for mask in 1..=full {
        for i in 0..n {
            if mask & (1 << i) == 0 {
                continue;
            }
            let previous = mask ^ (1 << i);
            let candidate = best[previous] + u8::from(sum[mask] == 0);
            if from[mask] == usize::MAX || candidate > best[mask] {
                best[mask] = candidate;
                from[mask] = previous;
            }
        }
    }
    // Walk back: every prefix set that sums to zero closes a group.
    let mut groups = Vec::new();
    let (mut mask, mut group_end) = (full, full);
    while mask != 0 {
        let previous = from[mask];
        if sum[previous] == 0 {
            let group = group_end & !previous;
            groups.push((0..n).filter(|i| group & (1 << i) != 0).collect());
            group_end = previous;
        }
        mask = previous;
    }
    groups.reverse();
    groups
}

/// Settles one group in at most (members − 1) transfers: the largest debtor pays the largest
/// creditor, repeatedly; ties by party id.
fn settle_group<'a>(members: impl Iterator<Item = (&'a String, i64)>) -> Vec<NetTransfer> {
    type Side<'a> = Vec<(&'a String, i64)>;
    let (mut debtors, mut creditors): (Side, Side) = members.partition(|(_, p)| *p < 0);
    let mut transfers = Vec::new();
    loop {
        debtors.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
        creditors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let (Some(debtor), Some(creditor)) = (debtors.first_mut(), creditors.first_mut()) else { break };
        let amount = (-debtor.1).min(creditor.1);
        transfers.push(NetTransfer { from: debtor.0.clone(), to: creditor.0.clone(), amount });
        debtor.1 += amount;
        creditor.1 -= amount;
        debtors.retain(|(_, p)| *p != 0);
        creditors.retain(|(_, p)| *p != 0);
    }
    transfers
}
