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
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    Ok(Secrets::load_or_create(&config.data_dir, std::env::vars())?)
}

async fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    let secrets = secrets(config)?;
    let app = Application::build(config, &secrets, Arc::new(SystemClock)).await?;
    if demo {
        let created = shucang::seed_demo(&app.services().accounts).await?;
        tracing::info!(created, "demo accounts ready");
        println!("demo accounts (password {DEMO_PASSWORD}):");
        for (phone, role) in DEMO_ACCOUNTS {
            println!("  {phone}  {role}");
        }
    }
    let addr = app.local_addr();
    tracing::info!(
        %addr,
        data_dir = %config.data_dir.display(),
        database = %shucang_store::redact_url(&config.database_url()),
        "shucang platform listening"
    );
    println!("shucang listening on http://{addr}");
    app.run_until(shucang::shutdown_signal()).await
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
