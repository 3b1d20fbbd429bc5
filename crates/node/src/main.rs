//! The `chargemesh` command line.

use chargemesh_node::config::Config;
use chargemesh_node::{Node, provisioning, telemetry};
use chargemesh_sim::{Connection, FleetConfig, run_fleet};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// A consortium of four made-up members on this machine: drivers of each charge at the others'
    /// simulated chargers (real sessions replayed), CDRs anchored, drivers charged, clearing closed.
    /// Ctrl-C stops it; run it again to resume.
    Demo {
        /// Where the members' data is kept, and found again to resume.
        #[arg(long, default_value = "chargemesh-demo")]
        dir: PathBuf,
        /// The real data replayed: a folder with `perth` (or `sessions/perth`) and `stations`; by
        /// default the repository's copy.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../sim/data"))]
        data: PathBuf,
        /// Member n's API listens on this port + n - 1; its chargers' gateway 100 above, its ledger 200 above.
        #[arg(long, default_value_t = 8101)]
        base_port: u16,
        /// How much faster than real time the replayed sessions run.
        #[arg(long, default_value_t = 600)]
        speed: u32,
    },
    /// Runs a node: the charger gateway (OCPP 1.6J) and the operator API.
    Node {
        /// TOML configuration file; every setting can also be set as CHARGEMESH_SECTION__KEY (e.g. CHARGEMESH_API__LISTEN).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Also registers a demonstration fleet of this many chargers and runs them, simulated,
        /// against this node.
        #[arg(long, value_name = "CHARGERS")]
        simulate: Option<usize>,
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
    /// Runs simulated OCPP 1.6J chargers against a node.
    Sim {
        /// Where chargers connect, without the station id.
        #[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
        url: String,
        /// Station ids to simulate, comma-separated; the node must know them.
        #[arg(long, value_delimiter = ',', required = true)]
        stations: Vec<String>,
        /// Cards the simulated drivers tap, comma-separated; the node must accept them.
        #[arg(long, value_delimiter = ',', required = true)]
        cards: Vec<String>,
        /// Security profile 1 authorization key shared by the simulated chargers.
        #[arg(long)]
        auth_key: Option<String>,
        /// Seconds between meter values.
        #[arg(long, default_value_t = 5)]
        sample_secs: u64,
        /// Meter values per session.
        #[arg(long, default_value_t = 12)]
        samples: u32,
        /// Charging power in kW.
        #[arg(long, default_value_t = 50)]
        power_kw: i64,
        /// Every N messages of the fleet, also send one piece of bad input (malformed JSON, a repeated
        /// message id, an unknown action, an oversized message, in turn) to exercise the node's errors.
        #[arg(long, value_name = "N")]
        misbehave_every: Option<u32>,
    },
    /// Prints the operator API's OpenAPI document.
    Openapi,
    /// Benchmarks (run a release build: `cargo run --release -p chargemesh-node -- bench gateway`).
    Bench {
        #[command(subcommand)]
        bench: Bench,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// Idle connections and memory per connection, then MeterValues throughput and latency, against a
    /// node process and then a bare WebSocket echo server.
    Gateway {
        /// Idle connections to open (capped by the process's open-file limit).
        #[arg(long, default_value_t = 100_000)]
        idle: usize,
        /// Chargers sending MeterValues in the throughput phase.
        #[arg(long, default_value_t = 10_000)]
        active: usize,
        /// MeterValues per second offered in total.
        #[arg(long, default_value_t = 20_000)]
        rate: u64,
        /// Seconds of the throughput phase, for the node and for the echo server each.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// The node's database: SQLite in a scratch directory by default, or the URL of an empty
        /// PostgreSQL database.
        #[arg(long, default_value = "")]
        database_url: String,
    },
    /// The write path alone, in process: MeterValues recorded per second with many chargers at once.
    Writer {
        #[arg(long, default_value_t = 1_000)]
        chargers: usize,
        #[arg(long, default_value_t = 20)]
        messages: u32,
        /// SQLite in a scratch directory by default, or the URL of an empty PostgreSQL database.
        #[arg(long, default_value = "")]
        database_url: String,
    },
    /// Cross-member starts: from a driver's request at member A's node to the RemoteStart reaching
    /// member B's charger, two nodes in this process on loopback.
    Roaming {
        #[arg(long, default_value_t = 1_000)]
        starts: usize,
    },
    /// Priced CDRs per second on one core, for sessions of 1, 5, 10 and 20 charging periods.
    Pricing {
        /// Seconds to price sessions of each size.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Ledger `Cdr::Anchor` transactions checked and applied per second by one validator on one core.
    Ledger {
        /// How many anchors to apply.
        #[arg(long, default_value_t = 100_000)]
        anchors: usize,
    },
    /// Validators on this machine (loopback p2p, a chain store each) finalizing `Cdr::Anchor`s
    /// offered at a fixed rate: transactions finalized per second and submission-to-finality latency.
    Consortium {
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Anchors per second offered in total.
        #[arg(long, default_value_t = 10_000)]
        rate: u64,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// The bare WebSocket echo server the gateway benchmark compares against.
    Echo {
        #[arg(long)]
        listen: std::net::SocketAddr,
    },
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
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Demo { dir, data, base_port, speed } => {
            // The demo tells what happens itself; the nodes' logs say only what went wrong.
            let mut log = Config::default().log;
            log.filter = "error".into();
            telemetry::init_logs(&log);
            chargemesh_node::demo::run(chargemesh_node::demo::DemoOptions { dir, data, base_port, speed }).await
        }
        Command::Node { config, simulate } => {
            let config = Config::load(config.as_deref()).map_err(|e| format!("configuration: {e}"))?;
            telemetry::init_logs(&config.log);
            let node = Node::start(&config).await.map_err(|e| e.to_string())?;
            eprintln!("chargemesh node: chargers connect to {}/<station id>", node.charger_url(&config));
            eprintln!(
                "chargemesh node: operator API at http://{}/api/v1 (OpenAPI at /api/v1/openapi.json)",
                node.api_addr
            );
            let stop = Arc::new(AtomicBool::new(false));
            let fleet = match simulate {
                Some(size) if size > 0 => {
                    let (stations, cards) = provisioning::provision_demo_fleet(node.operations.store(), size)
                        .await
                        .map_err(|e| format!("cannot register the demo fleet: {e}"))?;
                    eprintln!("chargemesh node: simulating {size} chargers ({} … {})", stations[0], stations[size - 1]);
                    let fleet = FleetConfig {
                        connection: Connection::new(node.charger_url(&config)),
                        stations,
                        cards,
                        sample_interval: Duration::from_secs(5),
                        samples_per_session: 12,
                        power_watts: 50_000,
                        misbehave_every: None,
                    };
                    Some(tokio::spawn(run_fleet(fleet, stop.clone())))
                }
                _ => None,
            };
            shutdown_signal().await;
            eprintln!("chargemesh node: stopping");
            stop.store(true, Ordering::Relaxed);
            if let Some(fleet) = fleet {
                fleet.abort();
            }
            node.stop().await;
            Ok(())
        }
        Command::Keys { command: KeysCommand::New { file } } => {
            let key = chargemesh_node::ledger_files::create_key(&file)?;
            println!("{}", key.public_key());
            Ok(())
        }
        Command::Keys { command: KeysCommand::Public { file } } => {
            println!("{}", chargemesh_node::ledger_files::read_key(&file)?.public_key());
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
                Some(count) => chargemesh_node::ledger_files::numbered_members(count)?,
                None if member.is_empty() => {
                    return Err("name the founding members: --member CN-AAA --member CN-BBB, or --members N".into());
                }
                None => member,
            };
            let request = chargemesh_node::ledger_files::GenesisRequest {
                chain_name,
                members,
                start: start.unwrap_or_else(jiff::Timestamp::now),
                clearing_period: Duration::from_secs(clearing_period_hours.saturating_mul(3600)),
                endpoint_template,
                p2p: p2p_base_port.map(|port| (p2p_host, port)),
                out: out.clone(),
            };
            let genesis = chargemesh_node::ledger_files::create_genesis(&request)?;
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
            let summary = chargemesh_node::ledger_files::verify_chain(&genesis, &chain)?;
            println!("{summary}");
            Ok(())
        }
        Command::Ledger { command: LedgerCommand::Proof { cdr_id, cpo, genesis, chain, out } } => {
            let proof = chargemesh_node::ledger_files::prove_cdr(&genesis, &chain, &cpo, &cdr_id)?;
            match out {
                Some(path) => std::fs::write(&path, proof).map_err(|e| format!("cannot write {}: {e}", path.display())),
                None => {
                    println!("{proof}");
                    Ok(())
                }
            }
        }
        Command::Ledger { command: LedgerCommand::CheckProof { proof, genesis, cdr } } => {
            let summary = chargemesh_node::ledger_files::check_proof(&proof, &genesis, cdr.as_deref())?;
            println!("{summary}");
            Ok(())
        }
        Command::Sim { url, stations, cards, auth_key, sample_secs, samples, power_kw, misbehave_every } => {
            telemetry::init_logs(&Config::default().log);
            let connection = Connection { url, auth_key, local_address: None, compression: true };
            let fleet = FleetConfig {
                connection,
                stations,
                cards,
                sample_interval: Duration::from_secs(sample_secs.max(1)),
                samples_per_session: samples.max(1),
                power_watts: power_kw * 1000,
                misbehave_every,
            };
            let stop = Arc::new(AtomicBool::new(false));
            let running = tokio::spawn(run_fleet(fleet, stop.clone()));
            shutdown_signal().await;
            stop.store(true, Ordering::Relaxed);
            running.abort();
            Ok(())
        }
        Command::Bench { bench: Bench::Gateway { idle, active, rate, seconds, database_url } } => {
            let duration = Duration::from_secs(seconds);
            let bench = chargemesh_node::bench::GatewayBench { idle, active, rate, duration, database_url };
            let report = chargemesh_node::bench::gateway(bench).await?;
            print!("{report}");
            Ok(())
        }
        Command::Bench { bench: Bench::Consortium { validators, rate, seconds } } => {
            telemetry::init_logs(&Config::default().log);
            let bench = chargemesh_node::bench::ConsortiumBench { validators, rate, seconds };
            let report = tokio::task::spawn_blocking(move || chargemesh_node::bench::consortium(bench))
                .await
                .map_err(|e| e.to_string())??;
            print!("{report}");
            Ok(())
        }
        Command::Bench { bench: Bench::Roaming { starts } } => {
            print!("{}", chargemesh_node::bench::roaming(starts).await?);
            Ok(())
        }
        Command::Bench { bench: Bench::Writer { chargers, messages, database_url } } => {
            print!("{}", chargemesh_node::bench::writer(chargers, messages, database_url).await?);
            Ok(())
        }
        Command::Bench { bench: Bench::Pricing { seconds } } => {
            print!("{}", chargemesh_node::bench::pricing(Duration::from_secs(seconds))?);
            Ok(())
        }
        Command::Bench { bench: Bench::Ledger { anchors } } => {
            print!("{}", chargemesh_node::bench::ledger(anchors)?);
            Ok(())
        }
        Command::Bench { bench: Bench::Echo { listen } } => chargemesh_node::bench::echo_server(listen).await,
        Command::Openapi => {
            println!("{}", chargemesh_node::api::openapi_json());
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}
