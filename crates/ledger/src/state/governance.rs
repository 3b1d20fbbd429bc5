//! Governance: members propose changes to the consortium and vote; a proposal passes when more than
//! two thirds of the active members approve it, and fails once that can no longer happen.

use super::{Context, Event, Rejection, State, check_p2p_endpoint, check_text};
use crate::fields::check_party_id;
use crate::transaction::{GovernanceAction, MemberRecord};
use borsh::{BorshDeserialize, BorshSerialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Member {
    pub record: MemberRecord,
    /// The nonce of the member's last accepted transaction.
    pub nonce: u64,
    /// A removed member keeps its history but sends nothing more.
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
pub struct Proposal {
    pub proposer: String,
    pub action: GovernanceAction,
    /// Each voter's approval or rejection.
    pub votes: BTreeMap<String, bool>,
    pub proposed_at_height: u64,
}

impl State {
    pub(super) fn propose(
        &mut self,
        sender: &str,
        action: &GovernanceAction,
        context: Context,
    ) -> Result<Vec<Event>, Rejection> {
        self.check_governance(action)?;
        let id = self.next_proposal;
        let proposal = Proposal {
            proposer: sender.to_owned(),
            action: action.clone(),
            votes: BTreeMap::from([(sender.to_owned(), true)]),
            proposed_at_height: context.height,
        };
        self.next_proposal += 1;
        self.proposals.insert(id, proposal);
        self.roots.governance = None;
        let mut events = vec![Event::Proposed { proposal: id }];
        events.extend(self.count_votes(id)?);
        Ok(events)
    }

    pub(super) fn vote(
        &mut self,
        sender: &str,
        id: u64,
        approve: bool,
        _context: Context,
    ) -> Result<Vec<Event>, Rejection> {
        let proposal = self.proposals.get(&id).ok_or(Rejection::UnknownProposal(id))?;
        if proposal.votes.contains_key(sender) {
            return Err(Rejection::AlreadyVoted(id));
        }
        if approve {
            // The state may have changed since it was proposed: it must still be possible.
            self.check_governance(&proposal.action)?;
        }
        self.proposals.get_mut(&id).expect("just read").votes.insert(sender.to_owned(), approve);
        self.roots.governance = None;
        let mut events = vec![Event::Voted { proposal: id }];
        events.extend(self.count_votes(id)?);
        Ok(events)
    }

    /// Decides a proposal once enough votes are in: executes it on passing, drops it on failing.
    fn count_votes(&mut self, id: u64) -> Result<Vec<Event>, Rejection> {
        let proposal = &self.proposals[&id];
        let active: Vec<&String> = self.members.iter().filter(|(_, m)| m.active).map(|(p, _)| p).collect();
        let votes = |approve: bool| active.iter().filter(|p| proposal.votes.get(p.as_str()) == Some(&approve)).count();
        let (approvals, rejections, voters) = (votes(true), votes(false), active.len());
        if approvals * 3 > voters * 2 {
            let proposal = self.proposals.remove(&id).expect("just read");
            self.execute(&proposal.action);
            return Ok(vec![Event::ProposalPassed { proposal: id }]);
        }
        // More than a third against: two thirds in favour can no longer be reached.
        if rejections * 3 >= voters {
            self.proposals.remove(&id);
            return Ok(vec![Event::ProposalRejected { proposal: id }]);
        }
        Ok(Vec::new())
    }

    /// Whether a governance action could be executed on the current state.
    fn check_governance(&self, action: &GovernanceAction) -> Result<(), Rejection> {
        let reject = |why: String| Err(Rejection::Governance(why));
        match action {
            GovernanceAction::AdmitMember(record) => {
                check_party_id(&record.party_id)?;
                check_text("endpoint", &record.endpoint, 256)?;
                check_p2p_endpoint(&record.p2p_endpoint)?;
                if self.members.contains_key(&record.party_id) {
                    return reject(format!("{} is or was a member already", record.party_id));
                }
                if record.public_key.verifying_key().is_none() {
                    return reject("the public key is not an ed25519 key".into());
                }
                if self.members.values().any(|m| m.record.public_key == record.public_key) {
                    return reject("another member has this key".into());
                }
                Ok(())
            }
            GovernanceAction::RemoveMember { party_id } => {
                let member = self.active_member(party_id)?;
                if member.record.validator && self.validator_count() == 1 {
                    return reject(format!("{party_id} is the last validator"));
                }
                Ok(())
            }
            GovernanceAction::SetValidator { party_id, validator } => {
                let member = self.active_member(party_id)?;
                if member.record.validator && !validator && self.validator_count() == 1 {
                    return reject(format!("{party_id} is the last validator"));
                }
                Ok(())
            }
            GovernanceAction::RotateKey { party_id, public_key } => {
                self.active_member(party_id)?;
                if public_key.verifying_key().is_none() {
                    return reject("the public key is not an ed25519 key".into());
                }
                if self.members.values().any(|m| m.record.public_key == *public_key) {
                    return reject("a member already has this key".into());
                }
                Ok(())
            }
            GovernanceAction::SetParameters(parameters) => parameters.check().or_else(reject),
        }
    }

    fn validator_count(&self) -> usize {
        self.validators().count()
    }

    fn validator_keys(&self) -> Vec<crate::PublicKey> {
        self.validators().map(|m| m.record.public_key).collect()
    }

    fn execute(&mut self, action: &GovernanceAction) {
        let validators = self.validator_keys();
        match action {
            GovernanceAction::AdmitMember(record) => {
                let member = Member { record: record.clone(), nonce: 0, active: true };
                self.members.insert(record.party_id.clone(), member);
            }
            GovernanceAction::RemoveMember { party_id } => {
                self.members.get_mut(party_id).expect("checked").active = false;
            }
            GovernanceAction::SetValidator { party_id, validator } => {
                self.members.get_mut(party_id).expect("checked").record.validator = *validator;
            }
            GovernanceAction::RotateKey { party_id, public_key } => {
                self.members.get_mut(party_id).expect("checked").record.public_key = *public_key;
            }
            GovernanceAction::SetParameters(parameters) => self.parameters = parameters.clone(),
        }
        if self.validator_keys() != validators {
            self.epoch += 1;
        }
        self.roots.members = None;
        self.roots.governance = None;
    }
}
