//! The `shucang` command: `serve`, `admin …`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use shucang::{Application, DEMO_ACCOUNTS, DEMO_PASSWORD, Services};
use shucang_config::{Config, Secrets};
use shucang_platform::{AccountError, Registration};
use shucang_types::{Phone, Role, SystemClock};

/// shucang (数藏): compliance-native software for digital-collectibles platforms.
#[derive(Parser)]
#[command(name = "shucang", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes; they override the configuration file and
/// the environment.
#[derive(Args)]
struct CommonArgs {
    /// TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for the database, the chain and secret keys [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB
    /// [default: sqlite://<data-dir>/shucang.db].
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform server.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Seed demo accounts (one per role) so a newcomer sees a living site.
        #[arg(long)]
        demo: bool,
    },
    /// Administration against the configured data directory and database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The embedded chain: offline proof verification, integrity check, load.
    #[command(subcommand)]
    Chain(ChainCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// An independent witness of other nodes' logs (C2SP tlog-witness).
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Print the newest SMS in the platform's outbox (the sandbox sender
    /// delivers nowhere; this is where registration codes are read).
    Outbox {
        /// Only messages to this mobile number.
        #[arg(long, value_name = "PHONE")]
        to: Option<String>,
        /// How many, newest first.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// The filing registry (区块链信息服务备案管理系统), a second
    /// application with its own data directory [default: ./registry-data]
    /// and database [default: sqlite://<data-dir>/registry.db].
    #[command(subcommand)]
    Registry(RegistryCommand),
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Cosign the checkpoints of the given logs once each is proved
    /// consistent with the last one cosigned (POST /add-checkpoint).
    Serve {
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8070")]
        listen: std::net::SocketAddr,
        /// The witness's own directory (its key, the logs' state, evidence).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The witness's name (its cosignatures' key name), e.g. witness.example.cn/w1.
        #[arg(long)]
        name: String,
        /// A log to witness: its verifier key (the node's node_vkey); repeat for several.
        #[arg(long = "log", value_name = "VKEY", required = true)]
        logs: Vec<String>,
    },
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Run the registry server.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8090].
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// The public base URL, for links in e-mails [default: the listen address].
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
    },
    /// Administration of the registry.
    #[command(subcommand)]
    Admin(RegistryAdminCommand),
    /// Print the newest SMS and e-mail messages in the outbox (the sandbox
    /// senders deliver nowhere; this is where their messages are read).
    Outbox {
        /// Only messages to this mobile number or e-mail address.
        #[arg(long, value_name = "RECIPIENT")]
        to: Option<String>,
        /// How many, newest first.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum RegistryAdminCommand {
    /// Create a staff account: reviewer, publisher or auditor.
    CreateUser {
        /// reviewer, publisher or auditor.
        #[arg(long)]
        role: String,
        /// Real name.
        #[arg(long)]
        name: String,
        /// Mainland mobile number (logs in with it).
        #[arg(long)]
        phone: String,
        /// E-mail address.
        #[arg(long)]
        email: String,
        /// Password (same policy as the platform).
        #[arg(long)]
        password: String,
    },
    /// Load the statutory holidays and adjusted working days of years after
    /// the built-in ones (2019–2026), in the data-file format (see
    /// README); checked (every statutory holiday named, dates of that year
    /// only), recorded with who loaded it. Restart the server to use it.
    LoadHolidays {
        /// The schedule file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Who loads it (name or staff id), for the record.
        #[arg(long, value_name = "WHO")]
        by: String,
    },
}

#[derive(Subcommand)]
enum ChainCommand {
    /// Verify a proof bundle offline (no server, no data directory).
    VerifyProof {
        /// The JSON bundle from GET /api/v1/chain/txs/{hash}/proof.
        file: PathBuf,
        /// The node's public key, hex (GET /api/v1/chain/stats, node_public_key).
        #[arg(
            long,
            value_name = "HEX",
            required_unless_present = "vkey",
            conflicts_with = "vkey"
        )]
        public_key: Option<String>,
        /// The node's C2SP verifier key, name+id+key (GET /api/v1/chain/stats, node_vkey).
        #[arg(long, value_name = "VKEY")]
        vkey: Option<String>,
    },
    /// Verify a C2SP signed note offline (a checkpoint, or any note): prints
    /// its text once a signature by one of the given keys verifies.
    VerifyNote {
        /// The note's file.
        file: PathBuf,
        /// A verifier key, name+id+key; repeat for several.
        #[arg(long = "vkey", value_name = "VKEY", required = true)]
        vkeys: Vec<String>,
        /// A witness's cosigner key (type 0x04); repeat for several. With
        /// witnesses, --vkey names the log, whose signature is required.
        #[arg(long = "witness", value_name = "VKEY")]
        witnesses: Vec<String>,
        /// How many of the witnesses must have cosigned [default: all].
        #[arg(long, requires = "witnesses")]
        quorum: Option<usize>,
    },
    /// Check that a node's log only grew since a checkpoint you kept: its
    /// current checkpoint and consistency proof, verified under its key.
    /// Exit 0 grown, 1 unreachable, 2 kept checkpoint invalid, 3 current
    /// checkpoint invalid, 4 not grown, 5 inconsistent (rewritten or split).
    Audit {
        /// The checkpoint kept from before (GET /api/v1/chain/checkpoint).
        #[arg(long, value_name = "CHECKPOINT_FILE")]
        since: PathBuf,
        /// The node's base URL.
        #[arg(long, value_name = "URL")]
        url: String,
        /// The node's C2SP verifier key (GET /api/v1/chain/stats, node_vkey).
        #[arg(long, value_name = "VKEY")]
        vkey: String,
        /// Write the node's current checkpoint here once it checks out (the
        /// next audit's --since).
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },
    /// Re-verify the whole stored chain under --data-dir (every hash,
    /// signature, Merkle root and rule); names the first bad block.
    Check,
    /// Mint tokens into a new collection from concurrent clients and print
    /// each acknowledgement (a storage smoke test for a stopped node).
    Load {
        /// Transactions to submit.
        #[arg(long, default_value_t = 10_000)]
        txs: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 256)]
        clients: usize,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// What witnessing costs: checkpoints per second committed one after
    /// another, alone and each cosigned by two loopback witnesses first.
    Witness {
        /// Checkpoints (one-mint blocks) per measurement.
        #[arg(long, default_value_t = 300)]
        checkpoints: usize,
    },
    /// Purchases over HTTP on loopback against the real server (fresh
    /// SQLite data directory), with /healthz from the same client as the
    /// reference; the last line is one JSON object with medians.
    Purchases {
        /// Purchase requests per round.
        #[arg(long, default_value_t = 5000)]
        requests: usize,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Rounds (each on a fresh drop).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Commit N signed mints and transfers from concurrent clients; the last
    /// line is one JSON object with the figures.
    Chain {
        /// Transactions to commit.
        #[arg(long, default_value_t = 200_000)]
        txs: usize,
        /// ed25519-sha256 or sm2-sm3.
        #[arg(long, default_value = "ed25519-sha256")]
        suite: String,
        /// Concurrent submitting clients.
        #[arg(long, default_value_t = 4096)]
        clients: usize,
        /// Signature-checking threads [default: one per CPU].
        #[arg(long)]
        threads: Option<usize>,
        /// Keep the chain: write it into this data directory (which must
        /// have no chain yet) with its node key and the configured chain
        /// name, so `serve --data-dir` opens it — e.g. to time the explorer
        /// on a large chain.
        #[arg(long, value_name = "DATA_DIR")]
        keep_in: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account with a given role (staff accounts, for example).
    CreateUser {
        /// Mainland mobile number.
        #[arg(long)]
        phone: String,
        /// Password (same policy as self-registration).
        #[arg(long)]
        password: String,
        /// collector, creator, reviewer, service_agent, system_admin,
        /// security_admin or audit_admin.
        #[arg(long)]
        role: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(common: &CommonArgs) -> anyhow::Result<Config> {
    let mut config = Config::load(common.config.as_deref(), std::env::vars())?;
    if let Some(dir) = &common.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &common.database_url {
        config.database_url = Some(url.clone());
    }
    Ok(config)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = load_config(&cli.common)?;
    match cli.command {
        Command::Registry(command) => {
            // The global flags name the registry's own directory and database.
            if let Some(dir) = &cli.common.data_dir {
                config.registry.data_dir = dir.clone();
            }
            if let Some(url) = &cli.common.database_url {
                config.registry.database_url = Some(url.clone());
            }
            registry(config, command).await
        }
        Command::Serve { listen, demo } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            init_tracing(&config.log);
            serve(&config, demo).await
        }
        Command::Admin(AdminCommand::CreateUser {
            phone,
            password,
            role,
        }) => {
            init_tracing("warn");
            create_user(&config, &phone, password, &role).await
        }
        Command::Chain(ChainCommand::VerifyProof {
            file,
            public_key,
            vkey,
        }) => {
            let key = match (public_key, vkey) {
                (_, Some(vkey)) => shucang_web::proof::NodeKey::Vkey(vkey),
                (Some(hex), None) => shucang_web::proof::NodeKey::Hex(hex),
                (None, None) => anyhow::bail!("give --public-key or --vkey"),
            };
            verify_proof(&file, &key)
        }
        Command::Chain(ChainCommand::VerifyNote {
            file,
            vkeys,
            witnesses,
            quorum,
        }) => verify_note(&file, &vkeys, &witnesses, quorum),
        Command::Chain(ChainCommand::Audit {
            since,
            url,
            vkey,
            save,
        }) => audit(&since, &url, &vkey, save.as_deref()).await,
        Command::Chain(ChainCommand::Check) => check_chain(&config),
        Command::Witness(WitnessCommand::Serve {
            listen,
            dir,
            name,
            logs,
        }) => {
            init_tracing(&config.log);
            let logs = logs
                .iter()
                .map(|k| {
                    shucang_verify::vkey::VerifierKey::parse(k)
                        .map_err(|e| anyhow::anyhow!("--log {k:?}: {e}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let witness = Arc::new(shucang::witness::Witness::open(&dir, &name, logs)?);
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let shutdown = shucang::shutdown_signal();
            println!("witness vkey: {}", witness.vkey());
            println!("witness listening on http://{}", listener.local_addr()?);
            shucang::witness::serve(listener, witness, shutdown).await
        }
        Command::Outbox { to, limit } => {
            init_tracing("warn");
            check_outbox_limit(limit)?;
            let secrets = secrets(&config)?;
            let services = Services::open(&config, &secrets, Arc::new(SystemClock)).await?;
            let messages = services.notifier.recent(to.as_deref(), limit).await;
            services.store.close().await;
            print_outbox(&messages?);
            Ok(())
        }
        Command::Chain(ChainCommand::Load { txs, clients }) => {
            init_tracing("warn");
            let secrets = secrets(&config)?;
            let chain_config = shucang::chain_config(&config, &secrets, Arc::new(SystemClock))?;
            let node = chain_config.node_key.clone();
            let chain = Arc::new(shucang::open_chain(chain_config)?);
            shucang::bench::run_load(chain.clone(), &node, txs, clients).await?;
            chain.close();
            Ok(())
        }
        Command::Bench(BenchCommand::Witness { checkpoints }) => {
            init_tracing("warn");
            let dir =
                std::env::temp_dir().join(format!("shucang-bench-witness-{}", std::process::id()));
            let b = shucang::witness_bench::run(&dir, checkpoints).await;
            let _ = std::fs::remove_dir_all(&dir);
            let b = b?;
            println!(
                "{{\"checkpoints\":{checkpoints},\"alone_per_s\":{:.1},\"two_witnesses_per_s\":{:.1},\"ratio\":{:.3}}}",
                b.alone_per_s,
                b.witnessed_per_s,
                b.witnessed_per_s / b.alone_per_s
            );
            Ok(())
        }
        Command::Bench(BenchCommand::Purchases {
            requests,
            clients,
            rounds,
        }) => bench_purchases(requests, clients, rounds).await,
        Command::Bench(BenchCommand::Chain {
            txs,
            suite,
            clients,
            threads,
            keep_in,
        }) => bench_chain(txs, &suite, clients, threads, keep_in).await,
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn secrets(config: &Config) -> anyhow::Result<Secrets> {
    shucang_files::create_private_dir(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    Ok(Secrets::load_or_create(&config.data_dir, std::env::vars())?)
}

async fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    let secrets = secrets(config)?;
    let mut app = Application::build(config, &secrets, Arc::new(SystemClock)).await?;
    if demo {
        app.show_sandbox_sms_on_pages();
        let seeded = shucang::demo::seed(&app).await?;
        tracing::info!(
            accounts = seeded.accounts,
            catalogue = seeded.catalogue,
            "demo data ready"
        );
        println!("demo accounts (password {DEMO_PASSWORD}):");
        for (phone, role) in DEMO_ACCOUNTS {
            let note = if role == Role::Collector {
                " (real-name verified, can buy)"
            } else {
                ""
            };
            println!("  {phone}  {role}{note}");
        }
        println!("demo drops: GET /api/v1/drops");
        println!("registration codes are shown on the page (demo only); or: shucang outbox");
    }
    // Signal handlers first: once "listening" is printed, SIGTERM drains.
    let shutdown = shucang::shutdown_signal();
    announce(
        "shucang",
        app.local_addr(),
        &config.data_dir,
        &config.database_url(),
    );
    app.run_until(shutdown).await
}

async fn create_user(
    config: &Config,
    phone: &str,
    password: String,
    role: &str,
) -> anyhow::Result<()> {
    let role = Role::parse(role).map_err(|e| anyhow::anyhow!("--role {role:?}: {e}"))?;
    let phone = Phone::parse(phone).map_err(|e| anyhow::anyhow!("--phone {phone:?}: {e}"))?;
    let secrets = secrets(config)?;
    let services = Services::open(config, &secrets, Arc::new(SystemClock)).await?;
    let registration = Registration {
        phone: phone.clone(),
        password,
        role,
    };
    let result = services.accounts.register(registration).await;
    services.store.close().await;
    match result {
        Ok(id) => {
            println!("created account {id}: {} ({role})", phone.masked());
            Ok(())
        }
        Err(AccountError::WeakPassword(p)) => Err(anyhow::anyhow!("--password: {p}")),
        Err(AccountError::PhoneTaken) => Err(anyhow::anyhow!(
            "--phone: an account with this phone number already exists"
        )),
        Err(e) => Err(e.into()),
    }
}

/// `chain audit`: exits with the failed step's code.
async fn audit(
    since: &std::path::Path,
    url: &str,
    vkey: &str,
    save: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let vkey = shucang_verify::vkey::VerifierKey::parse(vkey)
        .map_err(|e| anyhow::anyhow!("--vkey {vkey:?}: {e}"))?;
    let kept =
        std::fs::read_to_string(since).with_context(|| format!("reading {}", since.display()))?;
    match shucang::audit::audit(&kept, url, &vkey).await {
        Ok(a) => {
            println!(
                "consistent: {} grew from {} to {} entries (root {})",
                a.now.origin,
                a.since.size,
                a.now.size,
                hex::encode(a.now.root)
            );
            if let Some(file) = save {
                std::fs::write(file, &a.now_text)
                    .with_context(|| format!("writing {}", file.display()))?;
            }
            Ok(())
        }
        Err(failure) => {
            eprintln!("audit failed: {failure}");
            std::process::exit(failure.exit_code());
        }
    }
}

/// `chain verify-note`: the note's text and who signed it, or why not;
/// with witnesses, the log's signature and a quorum of cosignatures.
fn verify_note(
    file: &std::path::Path,
    vkeys: &[String],
    witnesses: &[String],
    quorum: Option<usize>,
) -> anyhow::Result<()> {
    use shucang_verify::vkey::{VerifierKey, open_note, open_witnessed};
    let parse = |flag: &str, keys: &[String]| {
        keys.iter()
            .map(|k| VerifierKey::parse(k).map_err(|e| anyhow::anyhow!("--{flag} {k:?}: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()
    };
    let keys = parse("vkey", vkeys)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    if !witnesses.is_empty() {
        let [log] = keys.as_slice() else {
            anyhow::bail!("with --witness, give the log's one --vkey");
        };
        let witnesses = parse("witness", witnesses)?;
        let quorum = quorum.unwrap_or(witnesses.len());
        let body = open_witnessed(&text, log, &witnesses, quorum)
            .map_err(|e| anyhow::anyhow!("invalid note: {e}"))?;
        println!(
            "valid: signed by {} and cosigned by at least {quorum} witness(es)",
            log.name
        );
        print!("{body}");
        return Ok(());
    }
    let (body, signed_by) =
        open_note(&text, &keys).map_err(|e| anyhow::anyhow!("invalid note: {e}"))?;
    let names: Vec<&str> = signed_by.iter().map(|k| k.name.as_str()).collect();
    println!("valid: signed by {}", names.join(", "));
    print!("{body}");
    Ok(())
}

fn verify_proof(file: &std::path::Path, key: &shucang_web::proof::NodeKey) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let (suite, v) = shucang_web::proof::verify_bundle_json(&text, key)
        .map_err(|reason| anyhow::anyhow!("invalid proof: {reason}"))?;
    println!(
        "valid: transaction {} (signer 0x{}) is leaf {} of {} at size {} (root {}), signed by the node key ({})",
        hex::encode(v.tx_hash),
        hex::encode(v.signer),
        v.leaf_index,
        v.checkpoint.origin,
        v.checkpoint.size,
        hex::encode(v.checkpoint.root),
        suite.name()
    );
    Ok(())
}

fn check_chain(config: &Config) -> anyhow::Result<()> {
    let dir = config.data_dir.join("chain");
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let report = shucang_chain::check(&dir, threads)
        .map_err(|e| anyhow::anyhow!("chain check failed: {e}"))?;
    println!(
        "chain intact: {} blocks, {} transactions, log root {} ({})",
        report.blocks,
        report.txs,
        hex::encode(report.log_root),
        report.suite.name()
    );
    Ok(())
}

async fn bench_chain(
    txs: usize,
    suite: &str,
    clients: usize,
    threads: Option<usize>,
    keep_in: Option<PathBuf>,
) -> anyhow::Result<()> {
    let suite = shucang_verify::Suite::parse(suite)
        .ok_or_else(|| anyhow::anyhow!("--suite must be ed25519-sha256 or sm2-sm3"))?;
    anyhow::ensure!(txs >= 2, "--txs must be at least 2");
    anyhow::ensure!(clients >= 1, "--clients must be at least 1");
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let (dir, operator) = match &keep_in {
        Some(data_dir) => {
            let mut config = Config::load(None, std::env::vars())?;
            config.data_dir = data_dir.clone();
            config.chain.suite = suite.name().to_owned();
            let secrets = Secrets::load_or_create(data_dir, std::env::vars())?;
            let chain = shucang::chain_config(&config, &secrets, Arc::new(SystemClock))?;
            anyhow::ensure!(
                !chain.dir.exists(),
                "{} already holds a chain; --keep-in needs a data directory without one",
                chain.dir.display()
            );
            (chain.dir, Some((chain.node_key, chain.origin)))
        }
        None => (
            std::env::temp_dir().join(format!("shucang-bench-{}", std::process::id())),
            None,
        ),
    };
    let options = shucang::bench::ChainBenchOptions {
        txs,
        suite,
        clients,
        threads,
        dir: dir.clone(),
        operator,
    };
    let result = shucang::bench::run_chain_bench(&options).await;
    if keep_in.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let result = result?;
    println!(
        "{} txs ({}): {:.0} committed tx/s, bound {:.0} verifications/s, p99 latency {:.1} ms, proof p99 {:.1} us, {:.0} bytes/tx, {} blocks",
        result.txs,
        suite.name(),
        result.commit_tps,
        result.verify_bound_tps,
        result.p99_commit_latency_ms,
        result.proof_us_p99,
        result.bytes_per_tx,
        result.blocks
    );
    println!("{}", result.to_json(clients, threads));
    Ok(())
}

async fn bench_purchases(requests: usize, clients: usize, rounds: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=1_000_000).contains(&requests),
        "--requests must be between 1 and 1000000"
    );
    anyhow::ensure!(
        (1..=1024).contains(&clients),
        "--clients must be between 1 and 1024"
    );
    anyhow::ensure!(
        (1..=20).contains(&rounds),
        "--rounds must be between 1 and 20"
    );
    let dir = std::env::temp_dir().join(format!("shucang-bench-purchases-{}", std::process::id()));
    let results = shucang::bench::run_purchase_bench(requests, clients, rounds, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    let results = results?;
    for (i, r) in results.iter().enumerate() {
        println!(
            "round {}: {} purchases ({} created): {:.0} purchases/s, p50 {:.1} ms, p99 {:.1} ms; /healthz {:.0} req/s",
            i + 1,
            requests,
            r.created,
            r.purchases_per_s,
            r.p50_ms,
            r.p99_ms,
            r.healthz_per_s
        );
    }
    let median = |f: fn(&shucang::bench::PurchaseRound) -> f64| {
        let mut v: Vec<f64> = results.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let purchases = median(|r| r.purchases_per_s);
    let healthz = median(|r| r.healthz_per_s);
    println!(
        "{}",
        serde_json::json!({
            "requests": requests, "clients": clients, "rounds": rounds,
            "purchases_per_s": purchases.round(), "healthz_per_s": healthz.round(),
            "ratio": (purchases / healthz * 1000.0).round() / 1000.0,
            "p50_ms": (median(|r| r.p50_ms) * 10.0).round() / 10.0,
            "p99_ms": (median(|r| r.p99_ms) * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

/// A registry command under `settings`: the `[registry]` table, with the
/// configuration's log filter.
async fn registry(settings: Config, command: RegistryCommand) -> anyhow::Result<()> {
    use shucang::registry::{RegistryApp, RegistryServices};
    let mut config = settings.registry;
    match command {
        RegistryCommand::Serve { listen, public_url } => {
            init_tracing(&settings.log);
            if let Some(listen) = listen {
                config.listen = listen;
            }
            if let Some(url) = public_url {
                anyhow::ensure!(
                    shucang_config::is_public_url(&url),
                    "--public-url must be an http(s) URL without a trailing slash"
                );
                config.public_url = Some(url);
            }
            let app = RegistryApp::build(&config, Arc::new(SystemClock)).await?;
            let shutdown = shucang::shutdown_signal();
            announce(
                "shucang registry",
                app.local_addr(),
                &config.data_dir,
                &config.database_url(),
            );
            app.run_until(shutdown).await
        }
        RegistryCommand::Admin(RegistryAdminCommand::CreateUser {
            role,
            name,
            phone,
            email,
            password,
        }) => {
            init_tracing("warn");
            let role = shucang_registry::UserRole::from_code(&role)
                .filter(|r| *r != shucang_registry::UserRole::Filer)
                .ok_or_else(|| {
                    anyhow::anyhow!("--role {role:?}: reviewer, publisher or auditor")
                })?;
            let services =
                RegistryServices::open(&config, Arc::new(SystemClock), String::new()).await?;
            let result = services
                .registry
                .create_staff(
                    role,
                    &shucang_registry::Person {
                        name: &name,
                        phone: &phone,
                        email: &email,
                        password: &password,
                    },
                )
                .await;
            services.store.close().await;
            match result {
                Ok(id) => {
                    println!("created registry user {id}: {name} ({})", role.code());
                    Ok(())
                }
                Err(shucang_registry::RegistryError::Invalid { field, message }) => {
                    Err(anyhow::anyhow!("--{field}: {message}"))
                }
                Err(shucang_registry::RegistryError::PhoneTaken) => Err(anyhow::anyhow!(
                    "--phone: a registry user with this mobile number exists"
                )),
                Err(e) => Err(e.into()),
            }
        }
        RegistryCommand::Admin(RegistryAdminCommand::LoadHolidays { file, by }) => {
            init_tracing("warn");
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("--file {}", file.display()))?;
            let services =
                RegistryServices::open(&config, Arc::new(SystemClock), String::new()).await?;
            let result = shucang_registry::load_holiday_schedules(
                services.store.as_ref(),
                &text,
                &by,
                shucang_types::Clock::now(&SystemClock),
            )
            .await;
            services.store.close().await;
            match result {
                Ok(years) => {
                    for y in years {
                        println!("loaded the {y} holiday schedule (by {by})");
                    }
                    // With the new years in the calendar, provisional
                    // deadlines become exact now (filers are told).
                    let services =
                        RegistryServices::open(&config, Arc::new(SystemClock), String::new())
                            .await?;
                    let settled = services.registry.settle_provisional_deadlines().await;
                    services.store.close().await;
                    println!(
                        "recomputed {} provisional deadline(s); restart the registry server to use the schedule",
                        settled?
                    );
                    Ok(())
                }
                Err(shucang_registry::RegistryError::Invalid { field, message }) => {
                    Err(anyhow::anyhow!("--{field}: {message}"))
                }
                Err(e) => Err(anyhow::anyhow!("--file {}: {e}", file.display())),
            }
        }
        RegistryCommand::Outbox { to, limit } => {
            init_tracing("warn");
            check_outbox_limit(limit)?;
            let services =
                RegistryServices::open(&config, Arc::new(SystemClock), String::new()).await?;
            let messages = services.notifier.recent(to.as_deref(), limit).await;
            services.store.close().await;
            print_outbox(&messages?);
            Ok(())
        }
    }
}

fn check_outbox_limit(limit: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=1000).contains(&limit),
        "--limit must be between 1 and 1000"
    );
    Ok(())
}

/// Prints outbox messages, oldest first.
fn print_outbox(messages: &[shucang_notify::Message]) {
    if messages.is_empty() {
        println!("(the outbox is empty)");
    }
    for m in messages.iter().rev() {
        println!(
            "#{} {} {} to {} [{}{}]",
            m.id,
            m.created_at.to_rfc3339_utc(),
            m.message.channel.code(),
            m.message.recipient,
            m.status.code(),
            m.last_error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
        if !m.message.subject.is_empty() {
            println!("  subject: {}", m.message.subject);
        }
        for line in m.message.body.lines() {
            println!("  {line}");
        }
    }
}

/// Says where a server listens: in the log with its data directory and
/// database (password redacted), and on stdout for whoever started it.
fn announce(
    name: &str,
    addr: std::net::SocketAddr,
    data_dir: &std::path::Path,
    database_url: &str,
) {
    tracing::info!(
        %addr,
        data_dir = %data_dir.display(),
        database = %shucang_store::redact_url(database_url),
        "{name} listening"
    );
    println!("{name} listening on http://{addr}");
}
