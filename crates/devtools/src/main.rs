//! The `chargemesh-dev` command line: chargemesh's tools for trying and measuring it. The
//! production binary is `chargemesh` (crates/node); nothing in it depends on this crate.

use chargemesh_devtools::{bench, demo, provisioning};
use chargemesh_node::config::Config;
use chargemesh_node::{shutdown_signal, start_announced, telemetry};
use chargemesh_sim::{Connection, FleetConfig, run_fleet};
use chargemesh_store::Store;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

// The same allocator as the `chargemesh` binary: the gateway benchmark measures a node this binary runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "chargemesh-dev",
    version,
    about = "Try and measure chargemesh: a demo consortium, a node with a simulated fleet, the simulator, benchmarks"
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
        /// default the copy built into this program (the first Perth file, the Shenzhen stations).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Member n's API listens on this port + n - 1; its chargers' gateway 100 above, its ledger 200 above.
        #[arg(long, default_value_t = 8101)]
        base_port: u16,
        /// How much faster than real time the replayed sessions run.
        #[arg(long, default_value_t = 600)]
        speed: u32,
    },
    /// Runs a node as `chargemesh node` does, with a simulated fleet charging against it.
    Node {
        /// TOML configuration file; every setting can also be set as CHARGEMESH_SECTION__KEY (e.g. CHARGEMESH_API__LISTEN).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Registers a demonstration fleet of this many chargers and runs them, simulated, against
        /// this node (0: none).
        #[arg(long, value_name = "CHARGERS", default_value_t = 0)]
        simulate: usize,
    },
    /// Registers the demonstration fleet of `node --simulate` (chargers SIM-0001…, cards DEMO-CARD-0001…,
    /// one site, the Guangdong tariff) in a node's database, for a simulator run apart (`sim`), so that
    /// node and chargers each have a process (and open-file limit) of their own.
    Provision {
        /// The node's TOML configuration file (its database); CHARGEMESH_* variables apply too.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// How many chargers.
        #[arg(long)]
        chargers: usize,
    },
    /// Runs simulated OCPP 1.6J chargers against a node.
    Sim {
        /// Where chargers connect, without the station id.
        #[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
        url: String,
        /// Station ids to simulate, comma-separated; the node must know them.
        #[arg(long, value_delimiter = ',', required = true)]
        stations: Vec<String>,
        /// Cards the simulated drivers tap, comma-separated; the node must accept them. Without any,
        /// each charger waits for the node to start it (RemoteStartTransaction), as for drivers
        /// starting from an app.
        #[arg(long, value_delimiter = ',')]
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
    /// Benchmarks (run a release build: `cargo run --release -p chargemesh-devtools -- bench gateway`).
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    chargemesh_node::run_to_exit(run(cli))
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Demo { dir, data, base_port, speed } => {
            // The demo tells what happens itself; the nodes' logs say only what went wrong, and the
            // one-time codes of drivers signing up in the app (the development SMS provider's).
            let mut log = Config::default().log;
            log.filter = "error,chargemesh::sms=warn".into();
            telemetry::init_logs(&log);
            demo::run(demo::DemoOptions { dir, data, base_port, speed }).await
        }
        Command::Node { config, simulate } => {
            let config = Config::load(config.as_deref()).map_err(|e| format!("configuration: {e}"))?;
            telemetry::init_logs(&config.log);
            let node = start_announced(&config).await.map_err(|e| e.to_string())?;
            let stop = Arc::new(AtomicBool::new(false));
            let fleet = match simulate {
                size if size > 0 => {
                    // Registered through a connection of the tool's own, as an operator's import would.
                    let database = Store::open(&config.database_url(), 1)
                        .await
                        .map_err(|e| format!("cannot open the node's database: {e}"))?;
                    let (stations, cards) = provisioning::provision_demo_fleet(&database, size)
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
        Command::Provision { config, chargers } => {
            if chargers == 0 {
                return Err("--chargers must be at least 1".into());
            }
            let config = Config::load(config.as_deref()).map_err(|e| format!("configuration: {e}"))?;
            let database = Store::open(&config.database_url(), 1)
                .await
                .map_err(|e| format!("cannot open the node's database: {e}"))?;
            let (stations, _) = provisioning::provision_demo_fleet(&database, chargers)
                .await
                .map_err(|e| format!("cannot register the demo fleet: {e}"))?;
            println!("registered {} chargers ({} … {})", stations.len(), stations[0], stations[chargers - 1]);
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
            let bench = bench::GatewayBench { idle, active, rate, duration, database_url };
            let report = bench::gateway(bench).await?;
            print!("{report}");
            Ok(())
        }
        Command::Bench { bench: Bench::Consortium { validators, rate, seconds } } => {
            telemetry::init_logs(&Config::default().log);
            let bench = bench::ConsortiumBench { validators, rate, seconds };
            let report =
                tokio::task::spawn_blocking(move || bench::consortium(bench)).await.map_err(|e| e.to_string())??;
            print!("{report}");
            Ok(())
        }
        Command::Bench { bench: Bench::Roaming { starts } } => {
            print!("{}", bench::roaming(starts).await?);
            Ok(())
        }
        Command::Bench { bench: Bench::Writer { chargers, messages, database_url } } => {
            print!("{}", bench::writer(chargers, messages, database_url).await?);
            Ok(())
        }
        Command::Bench { bench: Bench::Pricing { seconds } } => {
            print!("{}", bench::pricing(Duration::from_secs(seconds))?);
            Ok(())
        }
        Command::Bench { bench: Bench::Ledger { anchors } } => {
            print!("{}", bench::ledger(anchors)?);
            Ok(())
        }
        Command::Bench { bench: Bench::Echo { listen } } => bench::echo_server(listen).await,
    }
}
