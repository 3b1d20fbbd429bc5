//! Files of the ledger a member keeps: its key (the seed, hex, readable by its owner only) and the
//! consortium's genesis.

use crate::chain_store::ChainStore;
use crate::consensus::{CertificateCheck, SimplexCertificates};
use chargemesh_ledger::MemberKey;
use chargemesh_ledger::genesis::Genesis;
use chargemesh_ledger::state::Parameters;
use chargemesh_ledger::transaction::{MemberRecord, Roles};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes a new random key to `path`, which must not exist, readable and writable by its owner only.
pub fn create_key(path: &Path) -> Result<MemberKey, String> {
    let key = MemberKey::from_seed(rand::random());
    write_secret(path, &key.seed())?;
    Ok(key)
}

/// Reads the pseudonym secret at `path`, creating a random one (0600) if the file does not exist.
pub fn read_or_create_secret(path: &Path) -> Result<[u8; 32], String> {
    if !path.exists() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        write_secret(path, &rand::random())?;
    }
    read_secret(path, "pseudonym secret")
}

/// Writes 32 secret bytes as hex to a new file readable and writable by its owner only.
pub fn write_secret(path: &Path, secret: &[u8; 32]) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{} exists already; a key is never overwritten (choose another file)", path.display())
        }
        _ => format!("cannot create {}: {e}", path.display()),
    })?;
    writeln!(file, "{}", hex::encode(secret))
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads a key file written by [`create_key`].
pub fn read_key(path: &Path) -> Result<MemberKey, String> {
    read_secret(path, "key").map(MemberKey::from_seed)
}

/// 32 bytes written as hex by [`write_secret`]; `what` names the file in errors.
fn read_secret(path: &Path, what: &str) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    hex::decode(text.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| format!("{} is not a chargemesh {what} file (64 hex digits)", path.display()))
}

/// What `chargemesh ledger genesis` is asked for.
pub struct GenesisRequest {
    pub chain_name: String,
    /// Party ids of the founding members, each a CPO, an eMSP and a validator.
    pub members: Vec<String>,
    pub start: jiff::Timestamp,
    pub clearing_period: std::time::Duration,
    /// The federation endpoint of each member, with `{party}` standing for its party id.
    pub endpoint_template: String,
    /// Each member's ledger p2p address: the host and, for the n-th member, this port plus n - 1;
    /// none when not given (a member alone needs no peers).
    pub p2p: Option<(String, u16)>,
    pub out: PathBuf,
}

/// Writes `genesis.json` and a key file per member (`keys/<party id>.key`) into the output folder;
/// nothing is written when the genesis would be invalid.
pub fn create_genesis(request: &GenesisRequest) -> Result<Genesis, String> {
    let genesis_path = request.out.join("genesis.json");
    if genesis_path.exists() {
        return Err(format!("{} exists already; choose another --out folder", genesis_path.display()));
    }
    let keys: Vec<MemberKey> = request.members.iter().map(|_| MemberKey::from_seed(rand::random())).collect();
    let members = request
        .members
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(n, (party, key))| {
            let p2p_endpoint = match &request.p2p {
                Some((host, base)) => u16::try_from(n)
                    .ok()
                    .and_then(|n| base.checked_add(n))
                    .map(|port| format!("{host}:{port}"))
                    .ok_or_else(|| format!("--p2p-base-port {base}: not enough ports above it for every member"))?,
                None => String::new(),
            };
            Ok(MemberRecord {
                party_id: party.clone(),
                public_key: key.public_key(),
                roles: Roles { cpo: true, emsp: true },
                endpoint: request.endpoint_template.replace("{party}", &party.to_lowercase()),
                validator: true,
                p2p_endpoint,
            })
        })
        .collect::<Result<_, String>>()?;
    let genesis = Genesis {
        chain_name: request.chain_name.clone(),
        timestamp_ms: request.start.as_millisecond(),
        clearing_period_ms: i64::try_from(request.clearing_period.as_millis()).unwrap_or(i64::MAX),
        parameters: Parameters::default(),
        members,
        tariffs: Vec::new(),
    };
    genesis.check().map_err(|e| format!("the genesis would be invalid: {e}"))?;
    let keys_dir = request.out.join("keys");
    std::fs::create_dir_all(&keys_dir).map_err(|e| format!("cannot create {}: {e}", keys_dir.display()))?;
    for (party, key) in request.members.iter().zip(&keys) {
        write_secret(&keys_dir.join(format!("{party}.key")), &key.seed())?;
    }
    let json = serde_json::to_string_pretty(&genesis).expect("a genesis serializes");
    std::fs::write(&genesis_path, json + "\n").map_err(|e| format!("cannot write {}: {e}", genesis_path.display()))?;
    Ok(genesis)
}

/// Party ids `CN-M01`, `CN-M02`, … for a consortium of `count` made-up members (tests and demos).
pub fn numbered_members(count: usize) -> Result<Vec<String>, String> {
    if !(1..=99).contains(&count) {
        return Err("--members: 1 to 99".into());
    }
    Ok((1..=count).map(|i| format!("CN-M{i:02}")).collect())
}

/// Reads and checks a genesis file.
pub fn read_genesis(path: &Path) -> Result<Genesis, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Genesis::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The inclusion proof of the CDR `cdr_id` of `cpo` in the chain store at `chain`, as JSON.
pub fn prove_cdr(genesis: &Path, chain: &Path, cpo: &str, cdr_id: &str) -> Result<String, String> {
    let genesis = read_genesis(genesis)?;
    let store = ChainStore::open(chain).map_err(|e| format!("{e} (is the node still running? stop it first)"))?;
    let (state, _) = store.replay(&genesis).map_err(|e| e.to_string())?;
    let proof = crate::proof::prove(&store, &state, cpo, cdr_id)?;
    Ok(serde_json::to_string_pretty(&proof).expect("a proof serializes"))
}

/// Checks the proof in `proof` against the genesis (and the off-chain CDR in `cdr`, if given);
/// says what it proves.
pub fn check_proof(proof: &Path, genesis: &Path, cdr: Option<&Path>) -> Result<String, String> {
    let genesis = read_genesis(genesis)?;
    let text = std::fs::read_to_string(proof).map_err(|e| format!("cannot read {}: {e}", proof.display()))?;
    let parsed: chargemesh_ledger::proof::CdrProof =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a proof: {e}", proof.display()))?;
    let cdr = match cdr {
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?),
        None => None,
    };
    let anchor = chargemesh_ledger::proof::check(&parsed, &genesis, cdr.as_deref(), &SimplexCertificates)
        .map_err(|e| format!("the proof does not hold: {e}"))?;
    Ok(format!(
        "valid: CDR {} at {} (eMSP {}, {} minor units of {}) is in block {} of chain {}{}",
        anchor.cdr_id,
        anchor.evse_id,
        anchor.emsp,
        anchor.claimed.incl_tax,
        anchor.claimed.currency,
        parsed.header.height,
        genesis.chain_name,
        if cdr.is_some() { ", and the CDR given is the one anchored" } else { "" }
    ))
}

/// Replays the chain at `chain` from the genesis at `genesis` — every block, signature, recomputed
/// price, state root and finalization certificate — showing progress on standard error; says what was verified, or names the first block (and transaction) that is wrong and how.
pub fn verify_chain(genesis: &Path, chain: &Path) -> Result<String, String> {
    let genesis = read_genesis(genesis)?;
    if !chain.exists() {
        return Err(format!("{} does not exist: give the chain store of a node (ledger/chain.redb)", chain.display()));
    }
    let store = ChainStore::open(chain).map_err(|e| e.to_string())?;
    let mut transactions = 0u64;
    let started = std::time::Instant::now();
    let mut certificates = CertificateCheck::default();
    let (mut state, last) = store
        .replay_checking(&genesis, |state, block, of| {
            let height = block.header.height;
            transactions += block.transactions.len() as u64;
            if height == of || height % 100 == 0 {
                eprint!("\rverifying block {height} of {of}");
            }
            let certificate = store.certificate(height).map_err(|e| e.to_string())?;
            certificates.block(state, block, certificate.as_deref())
        })
        .map_err(|e| format!("verification failed: {e}"))?;
    eprintln!();
    certificates.finish().map_err(|e| format!("verification failed: {e}"))?;
    Ok(format!(
        "verified {} blocks and {transactions} transactions from genesis {} in {:.1} s; state root {}",
        last.height,
        hex::encode(genesis.hash()),
        started.elapsed().as_secs_f64(),
        hex::encode(state.root())
    ))
}
