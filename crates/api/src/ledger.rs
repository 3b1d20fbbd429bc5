//! The ledger explorer: the chain this node validates (blocks, transactions, members, chargers with
//! their life history, tariffs with every version, CDRs with inclusion proofs, obligations and
//! clearing), and submission of transactions signed elsewhere. Everything here is what every member
//! sees on the ledger; nothing personal is on it.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use super::extract::{Body, Query};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chargemesh_chain::chain::Snapshot;
use chargemesh_chain::mempool::{Admitted, MempoolError};
use chargemesh_ledger::proof::CdrProof;
use chargemesh_ledger::state::{CdrEntry, Charger, Clearing, PublishedTariff};
use chargemesh_ledger::transaction::{Action, MemberRecord};
use chargemesh_ledger::{Header, SignedTransaction, Transaction};
use chargemesh_operations::ledger::LedgerNode;
use chargemesh_operations::ledger::feed::FeedStatus;
use chargemesh_operations::ledger_explorer::{ChainReadError, TransactionPlace};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub(super) fn ledger(state: &ApiState) -> ApiResult<&Arc<LedgerNode>> {
    state.ledger.as_ref().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "ledger_disabled", "this node does not run the ledger (ledger.enabled)")
    })
}

/// The finalized chain, read without the chain's lock (disk reads included).
fn chain(ledger: &LedgerNode) -> Arc<Snapshot> {
    ledger.snapshot()
}

fn store_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("the chain store: {e}"))
}

fn parse_hash(text: &str, what: &str) -> ApiResult<chargemesh_ledger::Hash> {
    hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::invalid(format!("{what} must be 64 hexadecimal digits")))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerSummary {
    pub chain_name: String,
    /// The genesis hash, which names the chain.
    pub chain: String,
    /// This member's party id.
    pub party_id: String,
    pub height: u64,
    #[schema(value_type = Object)]
    pub head: Header,
    pub head_hash: String,
    pub state_root: String,
    /// Transactions waiting for a block.
    pub mempool: usize,
    pub validators: Vec<String>,
}

/// The chain's head and this member's place in it.
#[utoipa::path(get, path = "/api/v1/ledger", tag = "ledger", responses((status = 200, body = LedgerSummary), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn summary(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<LedgerSummary>> {
    let ledger = ledger(&state)?;
    let chain = chain(ledger);
    let mut head_state = chain.state().clone();
    let validators = head_state.validators().map(|m| m.record.party_id.clone()).collect();
    Ok(Json(LedgerSummary {
        chain_name: chain.genesis().chain_name.clone(),
        chain: hex::encode(head_state.chain()),
        party_id: ledger.party_id.clone(),
        height: chain.head().height,
        head: chain.head().clone(),
        head_hash: hex::encode(chain.head().hash()),
        state_root: hex::encode(head_state.root()),
        mempool: ledger.pending().mempool,
        validators,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct BlockPage {
    /// Blocks below this height (newest first); the head's by default.
    pub before: Option<u64>,
    /// At most 100; 20 by default.
    pub limit: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockSummary {
    pub hash: String,
    #[schema(value_type = Object)]
    pub header: Header,
    pub transactions: usize,
}

/// Finalized blocks, newest first.
#[utoipa::path(get, path = "/api/v1/ledger/blocks", tag = "ledger", params(BlockPage), responses((status = 200, body = Vec<BlockSummary>), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list_blocks(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Query(page): Query<BlockPage>,
) -> ApiResult<Json<Vec<BlockSummary>>> {
    let limit = page.limit.unwrap_or(20).clamp(1, 100);
    let blocks = ledger(&state)?.blocks_before(page.before, limit).map_err(|e| match e {
        ChainReadError::MissingBlock(_) => store_error("a block is missing"),
        ChainReadError::Store(e) => store_error(e),
    })?;
    let summaries = blocks
        .into_iter()
        .map(|block| BlockSummary {
            hash: hex::encode(block.hash()),
            transactions: block.transactions.len(),
            header: block.header,
        })
        .collect();
    Ok(Json(summaries))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TransactionView {
    pub id: String,
    #[schema(value_type = Object)]
    pub transaction: Transaction,
    pub signature: String,
    /// The canonical encoding, as signed and as a proof carries it.
    pub encoded: String,
    pub height: Option<u64>,
    pub index: Option<u32>,
}

impl TransactionView {
    fn of(tx: &SignedTransaction, at: Option<(u64, u32)>) -> TransactionView {
        TransactionView {
            id: hex::encode(tx.id()),
            transaction: tx.transaction.clone(),
            signature: hex::encode(tx.signature.0),
            encoded: hex::encode(tx.encode()),
            height: at.map(|(h, _)| h),
            index: at.map(|(_, i)| i),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockView {
    pub hash: String,
    #[schema(value_type = Object)]
    pub header: Header,
    pub transactions: Vec<TransactionView>,
    /// The finalization certificate (Commonware Simplex, ed25519), hex.
    pub certificate: String,
}

/// A finalized block with its transactions and certificate.
#[utoipa::path(get, path = "/api/v1/ledger/blocks/{height}", tag = "ledger", responses((status = 200, body = BlockView), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_block(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(height): Path<u64>,
) -> ApiResult<Json<BlockView>> {
    let found = ledger(&state)?.block_with_certificate(height).map_err(store_error)?;
    let (block, certificate) = found.ok_or_else(|| ApiError::not_found(format!("block {height}")))?;
    Ok(Json(BlockView {
        hash: hex::encode(block.hash()),
        transactions: block
            .transactions
            .iter()
            .enumerate()
            .map(|(i, tx)| TransactionView::of(tx, Some((height, i as u32))))
            .collect(),
        header: block.header,
        certificate: hex::encode(certificate),
    }))
}

/// A finalized transaction by its id.
#[utoipa::path(get, path = "/api/v1/ledger/transactions/{id}", tag = "ledger", responses((status = 200, body = TransactionView), (status = 404, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_transaction(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TransactionView>> {
    let ledger = ledger(&state)?;
    let id = parse_hash(&id, "the transaction id")?;
    let place = ledger.transaction_place(&id).map_err(|e| match e {
        ChainReadError::MissingBlock(height) => ApiError::not_found(format!("block {height}")),
        ChainReadError::Store(e) => store_error(e),
    })?;
    let status = match place {
        TransactionPlace::Finalized { transaction, height, index } => {
            return Ok(Json(TransactionView::of(&transaction, Some((height, index)))));
        }
        TransactionPlace::Waiting => "waiting for a block",
        TransactionPlace::Unknown => "not on the chain",
    };
    Err(ApiError::not_found(format!("transaction {} ({status})", hex::encode(id))))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SubmitRequest {
    /// A signed transaction in its canonical encoding, hex.
    pub transaction: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Submitted {
    pub id: String,
    /// `queued`, or `already_queued` when the same transaction was submitted before.
    pub status: &'static str,
}

impl From<(chargemesh_ledger::Hash, Admitted)> for Submitted {
    fn from((id, admitted): (chargemesh_ledger::Hash, Admitted)) -> Self {
        let status = match admitted {
            Admitted::Queued => "queued",
            Admitted::AlreadyQueued => "already_queued",
        };
        Submitted { id: hex::encode(id), status }
    }
}

impl From<MempoolError> for ApiError {
    fn from(e: MempoolError) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), format!("the transaction is refused: {e}"))
    }
}

/// Queues a transaction signed by a member's key. It is checked against the chain's state (sender,
/// nonce, signature and every rule of its kind) and refused with the reason if it would not apply.
#[utoipa::path(post, path = "/api/v1/ledger/transactions", tag = "ledger", request_body = SubmitRequest, responses((status = 202, body = Submitted), (status = 404, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn submit(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Body(request): Body<SubmitRequest>,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    let ledger = ledger(&state)?;
    let bytes = hex::decode(request.transaction.trim())
        .map_err(|_| ApiError::invalid("transaction must be the transaction's encoding in hexadecimal digits"))?;
    Ok((StatusCode::ACCEPTED, Json(Submitted::from(ledger.submit(&bytes)?))))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberView {
    #[schema(value_type = Object)]
    pub record: MemberRecord,
    pub active: bool,
    /// The nonce of its last transaction.
    pub nonce: u64,
}

/// The consortium's members.
#[utoipa::path(get, path = "/api/v1/ledger/members", tag = "ledger", responses((status = 200, body = Vec<MemberView>), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list_members(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Vec<MemberView>>> {
    let chain = chain(ledger(&state)?);
    let members = chain
        .state()
        .members()
        .map(|m| MemberView { record: m.record.clone(), active: m.active, nonce: m.nonce })
        .collect();
    Ok(Json(members))
}

/// Chargers registered on the ledger, each with its life history.
#[utoipa::path(get, path = "/api/v1/ledger/chargers", tag = "ledger", responses((status = 200, body = Vec<Object>), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list_chargers(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Vec<Charger>>> {
    let chain = chain(ledger(&state)?);
    Ok(Json(chain.state().chargers().cloned().collect()))
}

/// One charger by its EVSE id.
#[utoipa::path(get, path = "/api/v1/ledger/chargers/{evse_id}", tag = "ledger", responses((status = 200, body = Object), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_charger(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(evse_id): Path<String>,
) -> ApiResult<Json<Charger>> {
    let chain = chain(ledger(&state)?);
    chain.state().charger(&evse_id).cloned().map(Json).ok_or_else(|| ApiError::not_found(format!("charger {evse_id}")))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TariffView {
    pub owner: String,
    pub tariff_id: String,
    #[schema(value_type = Vec<Object>)]
    pub versions: Vec<PublishedTariff>,
}

/// Published tariffs with every version.
#[utoipa::path(get, path = "/api/v1/ledger/tariffs", tag = "ledger", responses((status = 200, body = Vec<TariffView>), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list_tariffs(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Vec<TariffView>>> {
    let chain = chain(ledger(&state)?);
    let tariffs = chain
        .state()
        .tariffs()
        .map(|(owner, id, versions)| TariffView {
            owner: owner.into(),
            tariff_id: id.into(),
            versions: versions.to_vec(),
        })
        .collect();
    Ok(Json(tariffs))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CdrView {
    #[schema(value_type = Object)]
    pub entry: CdrEntry,
    /// Checkable offline with `chargemesh ledger check-proof`.
    #[schema(value_type = Object)]
    pub proof: CdrProof,
}

/// An anchored CDR with its inclusion proof.
#[utoipa::path(get, path = "/api/v1/ledger/cdrs/{cpo}/{cdr_id}", tag = "ledger", responses((status = 200, body = CdrView), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_cdr(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path((cpo, cdr_id)): Path<(String, String)>,
) -> ApiResult<Json<CdrView>> {
    let found = ledger(&state)?.cdr_with_proof(&cpo, &cdr_id).map_err(store_error)?;
    let (entry, proof) = found.ok_or_else(|| ApiError::not_found(format!("CDR {cdr_id} of {cpo}")))?;
    Ok(Json(CdrView { entry, proof }))
}

/// The disputed CDRs this member is a party to — as the charger's member or the driver's — with
/// what each side proposed to settle for (`status.proposals`), and those resolved (`resolved`,
/// `agreed_incl_tax`), newest anchor first.
#[utoipa::path(get, path = "/api/v1/ledger/disputes", tag = "ledger",
    responses((status = 200, body = Vec<Object>), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list_disputes(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Vec<CdrEntry>>> {
    Ok(Json(ledger(&state)?.disputes()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolutionRequest {
    /// What the disputed charge settles for: minor units, tax included, from 0 to what the CDR
    /// claimed.
    pub agreed_incl_tax: i64,
}

/// Proposes, as this member, the amount a disputed CDR settles for — or accepts it, when the other
/// member proposed the same amount: the CDR is then resolved and the agreed amount owed in the
/// clearing period open now. Either party of the CDR may propose. 202 with the transaction; 422
/// with the ledger's reason (`dispute`: not disputed, not this member's, an amount above the
/// claim).
#[utoipa::path(post, path = "/api/v1/ledger/cdrs/{cpo}/{cdr_id}/resolution", tag = "ledger",
    params(("cpo" = String, Path), ("cdr_id" = String, Path)), request_body = ResolutionRequest,
    responses((status = 202, body = Submitted), (status = 404, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn resolve(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path((cpo, cdr_id)): Path<(String, String)>,
    Body(request): Body<ResolutionRequest>,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    let action = Action::ResolveCdr { cpo, cdr_id, agreed_incl_tax: request.agreed_incl_tax };
    let submitted = ledger(&state)?.send(action)?;
    Ok((StatusCode::ACCEPTED, Json(Submitted::from(submitted))))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Obligation {
    pub period: u64,
    pub currency: String,
    pub debtor: String,
    pub creditor: String,
    /// Minor units (fen).
    pub amount: i64,
}

/// What members owe each other in clearing periods not yet closed.
#[utoipa::path(get, path = "/api/v1/ledger/obligations", tag = "ledger", responses((status = 200, body = Vec<Obligation>), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list_obligations(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Vec<Obligation>>> {
    let chain = chain(ledger(&state)?);
    let obligations = chain
        .state()
        .open_obligations()
        .map(|(period, currency, debtor, creditor, amount)| Obligation {
            period,
            currency: currency.into(),
            debtor: debtor.into(),
            creditor: creditor.into(),
            amount,
        })
        .collect();
    Ok(Json(obligations))
}

/// Closed clearing periods with their netted transfers and whether each was paid and received.
#[utoipa::path(get, path = "/api/v1/ledger/clearing", tag = "ledger", responses((status = 200, body = Vec<Object>), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list_clearing(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Vec<Clearing>>> {
    let chain = chain(ledger(&state)?);
    Ok(Json(chain.state().clearings().cloned().collect()))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TransferPath {
    period: u64,
    index: u32,
}

/// Confirms, as the transfer's payer, that this member paid a transfer of a closed clearing period
/// (money moves outside the ledger). 202 with the transaction; 422 when this member is not the payer
/// or it is confirmed already.
#[utoipa::path(post, path = "/api/v1/ledger/clearing/{period}/transfers/{index}/paid", tag = "ledger",
    params(TransferPath), responses((status = 202, body = Submitted), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm_paid(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(TransferPath { period, index }): Path<TransferPath>,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    let submitted = ledger(&state)?.send(Action::ConfirmPaid { period, transfer: index })?;
    Ok((StatusCode::ACCEPTED, Json(Submitted::from(submitted))))
}

/// Confirms, as the transfer's payee, that this member received a transfer of a closed clearing
/// period. 202 with the transaction; 422 when this member is not the payee or it is confirmed already.
#[utoipa::path(post, path = "/api/v1/ledger/clearing/{period}/transfers/{index}/received", tag = "ledger",
    params(TransferPath), responses((status = 202, body = Submitted), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm_received(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(TransferPath { period, index }): Path<TransferPath>,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    let submitted = ledger(&state)?.send(Action::ConfirmReceived { period, transfer: index })?;
    Ok((StatusCode::ACCEPTED, Json(Submitted::from(submitted))))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerStatus {
    pub party_id: String,
    /// The validator set consensus runs with: one more with every change to the set.
    pub epoch: u64,
    /// `validator` (votes) or `observer` (follows and checks the chain), as the member registry says.
    #[schema(value_type = String)]
    pub role: chargemesh_chain::consensus::status::Role,
    /// The highest block this node proposed or verified, final or not.
    pub height: u64,
    /// The last finalized block this node holds.
    pub finalized_height: u64,
    /// How long ago (milliseconds) the last finalized block here was proposed.
    pub lag_ms: i64,
    /// Consensus finalized blocks this node does not hold yet; it is fetching them from peers.
    pub catching_up: bool,
    pub validators: Vec<String>,
    /// The validators whose votes reached this node in the last ten seconds.
    pub validators_heard: Vec<String>,
    /// Transactions waiting for a block.
    pub mempool: usize,
}

/// How this node's part in consensus is going: its role, heights, the validators it hears from.
#[utoipa::path(get, path = "/api/v1/ledger/status", tag = "ledger", responses((status = 200, body = LedgerStatus), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn status(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<LedgerStatus>> {
    let ledger = ledger(&state)?;
    let network = ledger.health.snapshot();
    let chain = chain(ledger);
    let pending = ledger.pending();
    Ok(Json(LedgerStatus {
        party_id: ledger.party_id.clone(),
        epoch: network.epoch,
        role: network.role,
        height: pending.highest_known.max(chain.head().height),
        finalized_height: chain.head().height,
        lag_ms: (jiff::Timestamp::now().as_millisecond() - chain.head().timestamp).max(0),
        catching_up: network.catching_up,
        validators: network.validators,
        validators_heard: network.validators_heard,
        mempool: pending.mempool,
    }))
}

/// What this node's feed to the ledger last found: what waits for a block and what the ledger
/// cannot take yet, and why (a charger that never booted, a tariff the ledger refuses, ...).
#[utoipa::path(get, path = "/api/v1/ledger/feed", tag = "ledger", responses((status = 200, body = FeedStatus), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn feed_status(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<FeedStatus>> {
    Ok(Json(ledger(&state)?.feed_status()))
}
