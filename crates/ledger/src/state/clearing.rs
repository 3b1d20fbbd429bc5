//! Clearing: when a period has ended and its disputes had their window, any member closes it; the
//! period's obligations are netted per currency into the fewest transfers, which become part of the
//! state. Money moves outside the chain; the payer and the payee each confirm it.

use super::{Context, Event, Rejection, State};
use crate::netting;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub currency: String,
    pub from: String,
    pub to: String,
    pub amount: i64,
    pub paid: bool,
    pub received: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clearing {
    pub period: u64,
    pub closed_at_height: u64,
    /// The gross obligations netted: (currency, debtor, creditor, amount).
    pub obligations: Vec<(String, String, String, i64)>,
    pub transfers: Vec<Transfer>,
}

impl State {
    pub(super) fn close_clearing(&mut self, period: u64, context: Context) -> Result<Vec<Event>, Rejection> {
        let (next, closes_at) = self.next_clearing();
        if period != next {
            return Err(Rejection::Clearing(format!("period {next} is the next to close, not {period}")));
        }
        if context.timestamp < closes_at {
            return Err(Rejection::Clearing(format!(
                "period {period} closes once it ended and its dispute window passed, at {closes_at} (Unix ms)"
            )));
        }
        let keys: Vec<_> = self
            .obligations
            .range((period, String::new(), String::new(), String::new())..)
            .take_while(|((p, ..), _)| *p == period)
            .map(|(key, _)| key.clone())
            .collect();
        let obligations: Vec<(String, String, String, i64)> =
            keys.iter().map(|key| (key.1.clone(), key.2.clone(), key.3.clone(), self.obligations[key])).collect();
        let mut transfers = Vec::new();
        let mut currencies: Vec<&String> = obligations.iter().map(|o| &o.0).collect();
        currencies.dedup();
        for currency in currencies {
            let positions = netting::positions(
                obligations.iter().filter(|o| &o.0 == currency).map(|o| (o.1.as_str(), o.2.as_str(), o.3)),
            );
            transfers.extend(netting::settle(&positions).into_iter().map(|t| Transfer {
                currency: currency.clone(),
                from: t.from,
                to: t.to,
                amount: t.amount,
                paid: false,
                received: false,
            }));
        }
        for key in keys {
            self.obligations.remove(&key);
        }
        let count = transfers.len();
        self.clearings.insert(period, Clearing { period, closed_at_height: context.height, obligations, transfers });
        self.next_clearing += 1;
        self.roots.clearing = None;
        Ok(vec![Event::ClearingClosed { period, transfers: count }])
    }

    pub(super) fn confirm(
        &mut self,
        sender: &str,
        period: u64,
        index: u32,
        paid: bool,
    ) -> Result<Vec<Event>, Rejection> {
        let clearing = self
            .clearings
            .get_mut(&period)
            .ok_or_else(|| Rejection::Clearing(format!("period {period} is not closed")))?;
        let transfer = clearing
            .transfers
            .get_mut(index as usize)
            .ok_or_else(|| Rejection::Clearing(format!("period {period} has no transfer {index}")))?;
        let (party, flag) =
            if paid { (&transfer.from, &mut transfer.paid) } else { (&transfer.to, &mut transfer.received) };
        if party != sender {
            let who = if paid { "payer" } else { "payee" };
            return Err(Rejection::Clearing(format!("only the transfer's {who}, {party}, confirms this")));
        }
        if *flag {
            return Err(Rejection::Clearing("already confirmed".into()));
        }
        *flag = true;
        self.roots.clearing = None;
        Ok(vec![Event::TransferConfirmed { period, transfer: index }])
    }
}
