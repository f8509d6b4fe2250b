//! Wiring: turns a [`Config`] into a running platform server.
//!
//! This is the one place that chooses back ends (SQLite or PostgreSQL, from
//! the database URL) and builds the domain services on them. Start-up is a
//! library function, [`Application::build`], so integration tests start the
//! real application on port 0 and talk HTTP to it.
//!
//! **Architecture invariant:** no business rule lives here; only
//! construction, background tasks and shutdown.

pub mod audit;
pub mod bench;
pub mod demo;
pub mod registry;
pub mod witness;
pub mod witness_bench;
pub mod witnessing;

pub use demo::{DEMO_ACCOUNTS, DEMO_PASSWORD};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use shucang_chain::{Chain, ChainConfig, SigningKey};
use shucang_config::{Config, Secrets};
use shucang_notify::{BodySeal, Notifier, SandboxSender};
use shucang_platform::content::ContentFilter;
use shucang_platform::media::MediaStore;
use shucang_platform::{
    AccountPolicy, AccountService, CollectiblesDeps, CollectiblesService, DropsDeps, DropsService,
    GiftPolicy, IdentityService, PaymentsDeps, PaymentsService, PiiCipher, SandboxProvider,
    SandboxVerifier, WorksDeps, WorksService,
};
use shucang_store::Store;
use shucang_types::Clock;
use shucang_verify::Suite;
use tokio::net::TcpListener;

/// Now, from the system clock, in Unix milliseconds.
pub fn now_ms() -> i64 {
    shucang_types::Clock::now(&shucang_types::SystemClock).0
}

/// How often the mint worker looks for due jobs when not woken.
const MINT_POLL_INTERVAL_MS: u64 = 1_000;
/// How long the sandbox provider waits for the notify endpoint.
const SANDBOX_CALLBACK_TIMEOUT_MS: u64 = 10_000;

/// How often lapsed reservations are expired.
const ORDER_EXPIRY_INTERVAL_MS: u64 = 5_000;

/// How often idle sessions are deleted from storage.
const SESSION_PURGE_INTERVAL_MS: u64 = 5 * 60_000;
/// How often the outbox workers (platform and registry) look for due messages.
pub(crate) const OUTBOX_POLL_MS: u64 = 1_000;
/// How often the witnessing worker looks for a new checkpoint.
const WITNESS_POLL_MS: u64 = 1_000;

/// The account rules a configuration asks for.
pub fn account_policy(config: &Config) -> AccountPolicy {
    let minutes = |m: u32| i64::from(m) * 60_000;
    AccountPolicy {
        session_idle_ms: minutes(config.accounts.session_idle_minutes),
        lockout: shucang_platform::accounts::LockoutPolicy {
            failures_max: config.accounts.login_failures_max,
            lockout_ms: minutes(config.accounts.lockout_minutes),
        },
        hourly: shucang_platform::accounts::HourlyLimits {
            registrations_per_ip: config.accounts.registrations_per_ip_per_hour,
            codes_per_phone: config.accounts.codes_per_phone_per_hour,
            codes_per_ip: config.accounts.codes_per_ip_per_hour,
        },
        sms_signature: config
            .site
            .name
            .clone()
            .unwrap_or_else(|| "数藏".to_owned()),
        ..AccountPolicy::default()
    }
}

/// The chain settings of a configuration, with the node key from the secrets.
pub fn chain_config(
    config: &Config,
    secrets: &Secrets,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<ChainConfig> {
    let settings = &config.chain;
    let suite = Suite::parse(&settings.suite)
        .with_context(|| format!("chain.suite {:?} is not a suite", settings.suite))?;
    let node_key = SigningKey::from_secret(suite, secrets.node.expose())
        .context("the node key (secrets/node.key or SHUCANG_NODE_KEY)")?;
    let extra_operators = settings
        .operators
        .iter()
        .map(|k| hex::decode(k).with_context(|| format!("chain.operators: {k:?} is not hex")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let verify_threads = match settings.verify_threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    Ok(ChainConfig {
        dir: config.data_dir.join("chain"),
        origin: settings.origin.clone(),
        node_key,
        extra_operators,
        verify_threads,
        clock: Arc::new(move || u64::try_from(clock.now().0).unwrap_or(0)),
    })
}

/// The content filter a configuration asks for.
pub fn content_filter(config: &Config) -> anyhow::Result<ContentFilter> {
    let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let block = config
        .content
        .block
        .clone()
        .unwrap_or_else(|| owned(shucang_platform::content::DEFAULT_BLOCK_WORDS));
    let flag = config
        .content
        .flag
        .clone()
        .unwrap_or_else(|| owned(shucang_platform::content::DEFAULT_FLAG_WORDS));
    Ok(ContentFilter::new(&block, &flag)?)
}

/// Opens the chain (see [`chain_config`]), logging what opening found.
pub fn open_chain(chain_config: ChainConfig) -> anyhow::Result<Chain> {
    let dir = chain_config.dir.clone();
    let (chain, report) = Chain::open(chain_config)
        .with_context(|| format!("opening the chain in {}", dir.display()))?;
    if report.created {
        tracing::info!(dir = %dir.display(), suite = chain.genesis().suite.name(), "created a new chain");
    }
    if let Some(torn) = &report.torn_tail {
        tracing::warn!(
            file = %torn.path.display(),
            offset = torn.offset,
            bytes = torn.bytes,
            zero_filled = torn.zero_filled,
            "cut an incomplete or zero-filled last block left by a crash or power loss (it was never acknowledged)"
        );
    }
    tracing::info!(blocks = report.blocks, txs = report.txs, "chain ready");
    Ok(chain)
}

/// The database and the domain services on it, without a listener or the
/// chain; what both `serve` and the `admin` commands need.
pub struct Services {
    /// The storage back end.
    pub store: Arc<dyn Store>,
    /// Accounts and sessions.
    pub accounts: Arc<AccountService>,
    /// Real-name verification and custodial wallets.
    pub identity: Arc<IdentityService>,
    /// Delivers the SMS the outbox holds (sandbox senders: they stay in
    /// the outbox, where `shucang outbox` shows them).
    pub notifier: Arc<Notifier>,
}

impl Services {
    /// Opens the configured database (migrating it) and builds the services.
    pub async fn open(
        config: &Config,
        secrets: &Secrets,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Services> {
        let url = config.database_url();
        let store = shucang_store::open(&url)
            .await
            .with_context(|| format!("opening {}", shucang_store::redact_url(&url)))?;
        let pii = Arc::new(PiiCipher::new(secrets.pii.expose()));
        let accounts = AccountService::new(
            store.clone(),
            clock.clone(),
            account_policy(config),
            *secrets.session.expose(),
            BodySeal::new(pii.clone()),
        )?;
        let notifier = Notifier::new(
            store.clone(),
            (Arc::new(SandboxSender), Arc::new(SandboxSender)),
            clock.clone(),
            BodySeal::new(pii.clone()),
        );
        let suite = Suite::parse(&config.chain.suite)
            .with_context(|| format!("chain.suite {:?} is not a suite", config.chain.suite))?;
        let identity =
            IdentityService::new(store.clone(), clock, pii, Arc::new(SandboxVerifier), suite);
        Ok(Services {
            store,
            accounts: Arc::new(accounts),
            identity: Arc::new(identity),
            notifier: Arc::new(notifier),
        })
    }
}

/// A platform server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    services: Services,
    /// Everything the router serves from, built with the listener so that
    /// tests and the demo seeding see the same services.
    state: shucang_web::AppState,
    /// Sends checkpoints to the configured witnesses, if any.
    witnessing: Option<Arc<witnessing::Witnessing>>,
    clock: Arc<dyn Clock>,
    limits: shucang_web::ServeLimits,
}

impl Application {
    /// Opens storage, builds the services and binds the listener (port 0
    /// picks a free port; see [`Application::local_addr`]).
    pub async fn build(
        config: &Config,
        secrets: &Secrets,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let services = Services::open(config, secrets, clock.clone()).await?;
        let chain_config = chain_config(config, secrets, clock.clone())?;
        let operator = chain_config.node_key.clone();
        let chain = Arc::new(open_chain(chain_config)?);
        let store = &services.store;
        refuse_a_chain_behind_the_database(store.as_ref(), &chain).await?;
        let drops = Arc::new(DropsService::new(DropsDeps {
            store: store.clone(),
            works: store.clone(),
            identity: services.identity.clone(),
            clock: clock.clone(),
            payment_window_ms: i64::from(config.orders.payment_window_minutes) * 60_000,
        }));
        let sandbox = Arc::new(SandboxProvider::new(derive_key(
            secrets.session.expose(),
            b"shucang/sandbox-payments",
        )));
        let payments = Arc::new(PaymentsService::new(PaymentsDeps {
            store: store.clone(),
            drops: store.clone(),
            works: store.clone(),
            identity: services.identity.clone(),
            chain: chain.clone(),
            operator: operator.clone(),
            provider: sandbox.clone(),
            clock: clock.clone(),
        }));
        let day_ms = |d: u32| i64::from(d) * 86_400_000;
        let collectibles = Arc::new(CollectiblesService::new(CollectiblesDeps {
            works: store.clone(),
            gifts: store.clone(),
            accounts: services.accounts.clone(),
            identity: services.identity.clone(),
            chain: chain.clone(),
            clock: clock.clone(),
            policy: GiftPolicy {
                after_purchase_ms: day_ms(config.gifts.after_purchase_days),
                after_gift_ms: day_ms(config.gifts.after_gift_days),
                daily_limit: config.gifts.daily_limit,
            },
        }));
        let settled = collectibles.settle_pending_gifts().await?;
        if settled > 0 {
            tracing::warn!(gifts = settled, "settled gifts left pending by a crash");
        }
        let works = Arc::new(WorksService::new(WorksDeps {
            store: store.clone(),
            clock: clock.clone(),
            filter: Arc::new(content_filter(config)?),
            media: MediaStore::new(&config.data_dir.join("media")),
            chain: chain.clone(),
            operator,
            four_eyes: config.content.four_eyes,
        }));
        let cosigned = Arc::new(shucang_web::Cosigned::default());
        let witnessing = witnessing(config, &chain, &cosigned)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let state = shucang_web::AppState {
            accounts: services.accounts.clone(),
            chain,
            identity: services.identity.clone(),
            works,
            drops,
            payments,
            sandbox: Some(sandbox),
            collectibles,
            complaints: Arc::new(shucang_platform::ComplaintsService::new(
                store.clone(),
                clock.clone(),
            )),
            self_url: format!("http://{}:{}", loopback_for(addr.ip()), addr.port()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_millis(SANDBOX_CALLBACK_TIMEOUT_MS))
                .build()
                .context("building the HTTP client")?,
            pages: Arc::new(shucang_web::pages::Pages::new()),
            site: site_info(config, addr),
            certificate_font: certificate_font(config)?,
            demo_outbox: None,
            clock: clock.clone(),
            cosigned,
        };
        Ok(Application {
            listener,
            services,
            state,
            witnessing,
            clock,
            limits: serve_limits(&config.server),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// Demo mode: the registration page shows the sandbox SMS it queued
    /// (no SMS is really sent). Never on a real site: the page would say
    /// who is registered.
    pub fn show_sandbox_sms_on_pages(&mut self) {
        self.state.demo_outbox = Some(self.services.notifier.clone());
    }

    /// The witnessing of checkpoints, when witnesses are configured.
    pub fn witnessing(&self) -> Option<&Arc<witnessing::Witnessing>> {
        self.witnessing.as_ref()
    }

    /// The services, e.g. to seed demo data before serving.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The chain.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.state.chain
    }

    /// Works and their review.
    pub fn works(&self) -> &Arc<WorksService> {
        &self.state.works
    }

    /// Drops and orders.
    pub fn drops(&self) -> &Arc<DropsService> {
        &self.state.drops
    }

    /// Payments and minting.
    pub fn payments(&self) -> &Arc<PaymentsService> {
        &self.state.payments
    }

    /// The sandbox payment provider, when the server offers it.
    pub fn sandbox(&self) -> Option<&Arc<SandboxProvider>> {
        self.state.sandbox.as_ref()
    }

    /// Collections and gifts.
    pub fn collectibles(&self) -> &Arc<CollectiblesService> {
        &self.state.collectibles
    }

    /// Now, by the application's clock.
    pub fn clock_now(&self) -> shucang_types::UnixMillis {
        self.clock.now()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests
    /// and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            services,
            state,
            limits,
            witnessing: self_witnessing,
            ..
        } = self;
        let minting = tokio::spawn(mint_worker(state.payments.clone()));
        let expiry = tokio::spawn(expire_orders(state.drops.clone()));
        let purge = tokio::spawn(purge_sessions(services.accounts.clone()));
        let outbox = tokio::spawn(deliver_messages(services.notifier.clone()));
        let witnessed = self_witnessing.map(|w| tokio::spawn(witness_checkpoints(w)));
        let chain = state.chain.clone();
        let router = shucang_web::router(state);
        let served = shucang_web::serve(listener, router, limits, shutdown).await;
        outbox.abort();
        if let Some(w) = witnessed {
            w.abort();
        }
        purge.abort();
        expiry.abort();
        minting.abort();
        chain.close();
        services.store.close().await;
        served.context("serving HTTP")
    }
}

/// Refuses to start when the database records mints, collections or gifts
/// whose transactions the chain does not hold (see
/// `shucang_platform::reconcile` for why this refuses rather than re-mints).
async fn refuse_a_chain_behind_the_database(
    store: &dyn Store,
    chain: &Chain,
) -> anyhow::Result<()> {
    let missing = shucang_platform::reconcile::missing_from_chain(store, chain)
        .await
        .context("comparing the database with the chain")?;
    if missing.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = missing.iter().take(20).map(|m| m.to_string()).collect();
    let more = missing.len().saturating_sub(named.len());
    anyhow::bail!(
        "the database records {} transaction(s) that the chain does not hold: {}{}. \
         The chain directory is older than the database (restored from an old backup, or \
         damaged and cut). Restore the chain directory that belongs with this database \
         (or the database that belongs with this chain); refusing to start",
        missing.len(),
        named.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// A server's bounds, from its `[server]` settings.
pub(crate) fn serve_limits(s: &shucang_config::ServerSettings) -> shucang_web::ServeLimits {
    let seconds = |n: u32| Duration::from_secs(u64::from(n));
    shucang_web::ServeLimits {
        connections_max: s.connections_max as usize,
        header_read_timeout: seconds(s.header_read_timeout_seconds),
        body_read_timeout: seconds(s.body_read_timeout_seconds),
        send_timeout: seconds(s.send_timeout_seconds),
        trusted_proxies: s.trusted_proxies.clone().into(),
    }
}

/// The address certificates print when no `site.public_url` is set: the
/// one the server is bound to (loopback for a wildcard bind), never one a
/// request names in its `Host` header.
fn bound_url(bound: SocketAddr) -> String {
    let mut addr = bound;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

/// What every page footer shows, from the `[site]` settings.
fn site_info(config: &Config, bound: SocketAddr) -> shucang_web::pages::SiteInfo {
    let site = &config.site;
    shucang_web::pages::SiteInfo {
        name: site.name.clone(),
        blockchain_filing_number: site.blockchain_filing_number.clone(),
        icp_number: site.icp_number.clone(),
        public_security_filing_number: site.public_security_filing_number.clone(),
        technical_provider: site.technical_provider.clone(),
        public_url: Some(site.public_url.clone().unwrap_or_else(|| bound_url(bound))),
    }
}

/// Mints paid orders as payments arrive (and retries failures).
async fn mint_worker(payments: Arc<PaymentsService>) {
    loop {
        match payments.process_mint_jobs().await {
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "mint worker pass failed"),
        }
        payments.wait_for_work(MINT_POLL_INTERVAL_MS).await;
    }
}

/// The address to reach a listener bound to `ip` from this machine.
fn loopback_for(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => "127.0.0.1".into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => "[::1]".into(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    }
}

/// A subkey of a secret for one purpose (HMAC-SHA-256 of the label).
fn derive_key(secret: &[u8; 32], label: &[u8]) -> [u8; 32] {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret)
        .expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// Expires lapsed reservations now (catching up after a restart) and then
/// every [`ORDER_EXPIRY_INTERVAL_MS`].
async fn expire_orders(drops: Arc<DropsService>) {
    let mut tick = tokio::time::interval(Duration::from_millis(ORDER_EXPIRY_INTERVAL_MS));
    loop {
        tick.tick().await;
        match drops.expire_due().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(orders = n, "expired unpaid reservations; editions returned"),
            Err(e) => tracing::warn!(error = %e, "expiring reservations failed"),
        }
    }
}

async fn purge_sessions(accounts: Arc<AccountService>) {
    let mut tick = tokio::time::interval(Duration::from_millis(SESSION_PURGE_INTERVAL_MS));
    loop {
        tick.tick().await;
        match accounts.purge_idle_sessions().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(sessions = n, "purged idle sessions"),
            Err(e) => tracing::warn!(error = %e, "purging idle sessions failed"),
        }
    }
}

/// Sends each new checkpoint to the witnesses, looking every
/// [`WITNESS_POLL_MS`].
async fn witness_checkpoints(witnessing: Arc<witnessing::Witnessing>) {
    let mut tick = tokio::time::interval(Duration::from_millis(WITNESS_POLL_MS));
    loop {
        tick.tick().await;
        if let Err(e) = witnessing.pass_if_new().await {
            tracing::warn!(error = %e, "witnessing pass failed");
        }
    }
}

/// The witnessing of the configured witnesses (`[chain] witnesses`), if any.
fn witnessing(
    config: &Config,
    chain: &Arc<Chain>,
    cosigned: &Arc<shucang_web::Cosigned>,
) -> anyhow::Result<Option<Arc<witnessing::Witnessing>>> {
    use shucang_verify::vkey::{KeyKind, VerifierKey};
    if config.chain.witnesses.is_empty() {
        return Ok(None);
    }
    let mut witnesses = Vec::new();
    for w in &config.chain.witnesses {
        let vkey = VerifierKey::parse(&w.vkey)
            .ok()
            .filter(|k| k.kind == KeyKind::CosignatureV1)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "chain.witnesses: {:?} is not a cosigner verifier key (type 0x04)",
                    w.vkey
                )
            })?;
        witnesses.push((w.url.clone(), vkey));
    }
    let w = witnessing::Witnessing::new(chain.clone(), witnesses, cosigned.clone())?;
    Ok(Some(Arc::new(w)))
}

/// Hands due messages to their senders every [`OUTBOX_POLL_MS`].
pub(crate) async fn deliver_messages(notifier: Arc<Notifier>) {
    let mut tick = tokio::time::interval(Duration::from_millis(OUTBOX_POLL_MS));
    loop {
        tick.tick().await;
        if let Err(e) = notifier.deliver_due().await {
            tracing::warn!(error = %e, "outbox pass failed");
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    // The handlers are installed now, when this is called — before the
    // server announces that it listens — not when the future is first
    // polled, so a signal sent right after start-up is never lost to the
    // default action (which would kill the process without draining).
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async fn wait(s: std::io::Result<Signal>, name: &str) {
        match s {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, signal = name, "cannot listen for the signal");
                std::future::pending::<()>().await;
            }
        }
    }
    async move {
        tokio::select! {
            () = wait(int, "SIGINT") => {},
            () = wait(term, "SIGTERM") => {},
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}

/// The font for certificate images: the configured one, checked now so a
/// wrong path stops start-up; else a system CJK font if one is installed
/// (read on first use); else none, and the PNG is not offered.
fn certificate_font(config: &Config) -> anyhow::Result<Option<shucang_certificate::LazyFont>> {
    use shucang_certificate::{FontSource, LazyFont};
    let source = match &config.site.certificate_font {
        Some(path) => {
            let source = FontSource {
                path: path.clone(),
                index: config.site.certificate_font_index,
            };
            source.load().context("site.certificate_font")?;
            source
        }
        None => match FontSource::detect() {
            Some(found) => found,
            None => {
                tracing::warn!(
                    "no CJK font found for certificate images; set site.certificate_font to offer the PNG"
                );
                return Ok(None);
            }
        },
    };
    tracing::info!(font = %source.path.display(), index = source.index, "certificate font");
    Ok(Some(LazyFont::new(source)))
}
