//! The `chargemesh` command line.

use chargemesh_node::config::Config;
use chargemesh_node::{shutdown_signal, start_announced, telemetry};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

// glibc's allocator spent a sixth of the node's time under load (consolidating and searching free
// lists for the many small, short-lived allocations of each message); mimalloc's per-thread pages do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "chargemesh",
    version,
    about = "A charging station management system that consortium members federate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a node: the charger gateway (OCPP 1.6J) and the operator API.
    Node {
        /// TOML configuration file; every setting can also be set as CHARGEMESH_SECTION__KEY (e.g. CHARGEMESH_API__LISTEN).
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Member keys: create one, or show a key file's public key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The consortium ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Prints the operator API's OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Creates a new member key in FILE (readable by you only); prints its public key.
    New { file: PathBuf },
    /// Prints the public key of the key in FILE.
    Public { file: PathBuf },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Creates a consortium's genesis file and a key file for each founding member.
    Genesis {
        /// The chain's name.
        #[arg(long, default_value = "chargemesh")]
        chain_name: String,
        /// A founding member's party id (e.g. CN-NGR); repeat for each member.
        #[arg(long = "member", value_name = "PARTY_ID")]
        member: Vec<String>,
        /// Instead of --member: this many made-up members CN-M01, CN-M02, … (for tests and demos).
        #[arg(long, conflicts_with = "member")]
        members: Option<usize>,
        /// When the chain starts (RFC 3339); now by default.
        #[arg(long)]
        start: Option<jiff::Timestamp>,
        /// The length of a clearing period, in hours.
        #[arg(long, default_value_t = 24)]
        clearing_period_hours: u64,
        /// Each member's federation endpoint; `{party}` stands for its party id in lower case.
        #[arg(long, default_value = "https://{party}.members.invalid/ocpi")]
        endpoint_template: String,
        /// Gives the members ledger p2p addresses on --p2p-host: the first member this port, the
        /// next one port higher, and so on (for consortia on one machine or one network).
        #[arg(long)]
        p2p_base_port: Option<u16>,
        /// The host of the addresses --p2p-base-port makes.
        #[arg(long, default_value = "127.0.0.1", requires = "p2p_base_port")]
        p2p_host: String,
        /// Folder for genesis.json and keys/PARTY_ID.key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replays a chain from its genesis, checking every block, signature, price and state root;
    /// stops at the first inconsistency and names it.
    Verify {
        #[arg(long)]
        genesis: PathBuf,
        /// The node's chain store (ledger/chain.redb in its data directory).
        #[arg(long)]
        chain: PathBuf,
    },
    /// Writes the inclusion proof of an anchored CDR as JSON (the node must be stopped; a running
    /// node serves the same proof at GET /api/v1/ledger/cdrs/{cpo}/{cdr_id}).
    Proof {
        /// The CDR's id.
        cdr_id: String,
        /// The party id of the CPO that anchored it.
        #[arg(long)]
        cpo: String,
        #[arg(long)]
        genesis: PathBuf,
        /// The node's chain store (ledger/chain.redb in its data directory).
        #[arg(long)]
        chain: PathBuf,
        /// Where to write the proof; standard output by default.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Checks an inclusion proof offline against the consortium's genesis.
    CheckProof {
        /// The proof, as `ledger proof` or the API wrote it.
        proof: PathBuf,
        #[arg(long)]
        genesis: PathBuf,
        /// The full off-chain CDR: also check that it is the one anchored.
        #[arg(long)]
        cdr: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    chargemesh_node::run_to_exit(run(cli))
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Node { config } => {
            let config = Config::load(config.as_deref()).map_err(|e| format!("configuration: {e}"))?;
            telemetry::init_logs(&config.log);
            let node = start_announced(&config).await.map_err(|e| e.to_string())?;
            shutdown_signal().await;
            eprintln!("chargemesh node: stopping");
            node.stop().await;
            Ok(())
        }
        Command::Keys { command: KeysCommand::New { file } } => {
            let key = chargemesh_chain::files::create_key(&file)?;
            println!("{}", key.public_key());
            Ok(())
        }
        Command::Keys { command: KeysCommand::Public { file } } => {
            println!("{}", chargemesh_chain::files::read_key(&file)?.public_key());
            Ok(())
        }
        Command::Ledger {
            command:
                LedgerCommand::Genesis {
                    chain_name,
                    member,
                    members,
                    start,
                    clearing_period_hours,
                    endpoint_template,
                    p2p_base_port,
                    p2p_host,
                    out,
                },
        } => {
            let members = match members {
                Some(count) => chargemesh_chain::files::numbered_members(count)?,
                None if member.is_empty() => {
                    return Err("name the founding members: --member CN-AAA --member CN-BBB, or --members N".into());
                }
                None => member,
            };
            let request = chargemesh_chain::files::GenesisRequest {
                chain_name,
                members,
                start: start.unwrap_or_else(jiff::Timestamp::now),
                clearing_period: Duration::from_secs(clearing_period_hours.saturating_mul(3600)),
                endpoint_template,
                p2p: p2p_base_port.map(|port| (p2p_host, port)),
                out: out.clone(),
            };
            let genesis = chargemesh_chain::files::create_genesis(&request)?;
            println!("chain {} ({})", genesis.chain_name, hex::encode(genesis.hash()));
            for member in &genesis.members {
                println!(
                    "  {}  {}  keys/{}.key  {}",
                    member.party_id, member.public_key, member.party_id, member.p2p_endpoint
                );
            }
            println!("written to {}", out.display());
            Ok(())
        }
        Command::Ledger { command: LedgerCommand::Verify { genesis, chain } } => {
            let summary = chargemesh_chain::files::verify_chain(&genesis, &chain)?;
            println!("{summary}");
            Ok(())
        }
        Command::Ledger { command: LedgerCommand::Proof { cdr_id, cpo, genesis, chain, out } } => {
            let proof = chargemesh_chain::files::prove_cdr(&genesis, &chain, &cpo, &cdr_id)?;
            match out {
                Some(path) => std::fs::write(&path, proof).map_err(|e| format!("cannot write {}: {e}", path.display())),
                None => {
                    println!("{proof}");
                    Ok(())
                }
            }
        }
        Command::Ledger { command: LedgerCommand::CheckProof { proof, genesis, cdr } } => {
            let summary = chargemesh_chain::files::check_proof(&proof, &genesis, cdr.as_deref())?;
            println!("{summary}");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", chargemesh_api::openapi_json());
            Ok(())
        }
    }
}
