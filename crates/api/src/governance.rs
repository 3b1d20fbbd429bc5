//! Governance of the consortium from this member's console: the open proposals with their votes,
//! and this member's own proposals and votes, signed with its member key. A proposal passes when
//! more than two thirds of the active members approve it; a change to the validator set takes
//! effect after the block that passes it (the next epoch).

use super::ApiState;
use super::auth::Caller;
use super::errors::ApiResult;
use super::extract::Body;
use super::extract::Path;
use super::ledger::{Submitted, ledger};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chargemesh_ledger::transaction::{Action, GovernanceAction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub id: u64,
    pub proposer: String,
    /// What passing it does, e.g. `{"admit_member": {…}}`, `{"remove_member": {"party_id": …}}`,
    /// `{"set_validator": {…}}`, `{"rotate_key": {…}}`, `{"set_parameters": {…}}`.
    #[schema(value_type = Object)]
    pub action: GovernanceAction,
    /// Each voter's approval (true) or rejection.
    pub votes: BTreeMap<String, bool>,
    pub proposed_at_height: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GovernanceView {
    /// The validator set's number: one more with every change to the set.
    pub epoch: u64,
    pub validators: Vec<String>,
    /// Active members: more than two thirds of them must approve a proposal.
    pub active_members: usize,
    pub proposals: Vec<ProposalView>,
}

/// The validators, and the proposals waiting for votes.
#[utoipa::path(get, path = "/api/v1/ledger/governance", tag = "ledger", responses((status = 200, body = GovernanceView), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn governance(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<GovernanceView>> {
    let chain = ledger(&state)?.snapshot();
    let state = chain.state();
    let proposals = state
        .proposals()
        .map(|(id, p)| ProposalView {
            id,
            proposer: p.proposer.clone(),
            action: p.action.clone(),
            votes: p.votes.clone(),
            proposed_at_height: p.proposed_at_height,
        })
        .collect();
    Ok(Json(GovernanceView {
        epoch: state.epoch(),
        validators: state.validators().map(|m| m.record.party_id.clone()).collect(),
        active_members: state.members().filter(|m| m.active).count(),
        proposals,
    }))
}

/// Proposes a change as this member (which approves it by proposing). Refused with the reason if
/// it could not pass on the chain's state (a party already a member, the last validator removed…).
#[utoipa::path(post, path = "/api/v1/ledger/governance/proposals", tag = "ledger", request_body(content = Object, description = "a governance action, e.g. {\"remove_member\": {\"party_id\": \"CN-ABC\"}}"), responses((status = 202, body = Submitted), (status = 404, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn propose(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Body(action): Body<GovernanceAction>,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    let submitted = ledger(&state)?.send(Action::Propose(action))?;
    Ok((StatusCode::ACCEPTED, Json(Submitted::from(submitted))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteRequest {
    pub approve: bool,
}

/// Votes on an open proposal as this member.
#[utoipa::path(post, path = "/api/v1/ledger/governance/proposals/{id}/votes", tag = "ledger", request_body = VoteRequest, responses((status = 202, body = Submitted), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn vote(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(proposal): Path<u64>,
    Body(request): Body<VoteRequest>,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    let submitted = ledger(&state)?.send(Action::Vote { proposal, approve: request.approve })?;
    Ok((StatusCode::ACCEPTED, Json(Submitted::from(submitted))))
}
