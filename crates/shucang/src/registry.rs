//! `shucang registry serve`: the filing registry as a second application
//! with its own data directory and database, wired like the platform. Its
//! settings are [`RegistryConfig`], the `[registry]` table of
//! `shucang-config`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
pub use shucang_config::RegistryConfig;
use shucang_config::Secrets;
use shucang_notify::{Notifier, SandboxSender};
use shucang_registry::Registry;
use shucang_store::RegistryBackend;
use shucang_types::Clock;
use tokio::net::TcpListener;

/// Every how many outbox passes expired sessions are purged (a minute).
const SESSION_PURGE_PASSES: u64 = 60;

/// The registry's storage and services, without a listener (what the
/// `admin` and `outbox` commands need).
pub struct RegistryServices {
    /// Storage.
    pub store: Arc<dyn RegistryBackend>,
    /// The registry.
    pub registry: Arc<Registry>,
    /// The outbox.
    pub notifier: Arc<Notifier>,
}

impl RegistryServices {
    /// Opens the database and builds the services.
    pub async fn open(
        config: &RegistryConfig,
        clock: Arc<dyn Clock>,
        base_url: String,
    ) -> anyhow::Result<RegistryServices> {
        shucang_files::create_private_dir(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let secrets = Secrets::load_or_create(&config.data_dir, std::env::vars())?;
        let store = shucang_store::open_registry(&config.database_url())
            .await
            .context("opening the registry database")?;
        // The built-in years plus what administrators loaded.
        let loads = store.calendar_loads().await?;
        let calendar = shucang_registry::calendar_with_loads(&loads)
            .context("a loaded holiday schedule no longer checks")?;
        let registry = Registry::new(
            store.clone(),
            clock.clone(),
            calendar,
            &config.data_dir.join("uploads"),
            &shucang_registry::RegistryKeys {
                session: *secrets.session.expose(),
                pii: *secrets.pii.expose(),
            },
            base_url,
            filer_limits(&config.limits),
        )?;
        let notifier = Notifier::new(
            store.clone(),
            (Arc::new(SandboxSender), Arc::new(SandboxSender)),
            clock,
            shucang_notify::BodySeal::new(Arc::new(shucang_platform::PiiCipher::new(
                secrets.pii.expose(),
            ))),
        );
        Ok(RegistryServices {
            store,
            registry: Arc::new(registry),
            notifier: Arc::new(notifier),
        })
    }
}

/// The registry server, bound and ready.
pub struct RegistryApp {
    listener: TcpListener,
    services: RegistryServices,
    limits: shucang_web::ServeLimits,
}

impl RegistryApp {
    /// Opens storage and binds the listener (port 0 picks a free port).
    pub async fn build(
        config: &RegistryConfig,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<RegistryApp> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let services = RegistryServices::open(config, clock, base_url).await?;
        // Holidays loaded since the last start make provisional deadlines
        // exact.
        let settled = services
            .registry
            .settle_provisional_deadlines()
            .await
            .context("recomputing provisional deadlines")?;
        if settled > 0 {
            tracing::info!(settled, "provisional deadlines recomputed");
        }
        Ok(RegistryApp {
            listener,
            services,
            limits: crate::serve_limits(&config.server),
        })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// The services (tests read the outbox through them).
    pub fn services(&self) -> &RegistryServices {
        &self.services
    }

    /// Serves until `shutdown`, delivering the outbox in the background.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let RegistryApp {
            listener,
            services,
            limits,
        } = self;
        let notifier = services.notifier.clone();
        let registry = services.registry.clone();
        let outbox = tokio::spawn(async move {
            for pass in 0u64.. {
                // Once a minute: expired sessions go.
                if pass % SESSION_PURGE_PASSES == 0
                    && let Err(e) = registry.purge_expired_sessions().await
                {
                    tracing::warn!(error = %e, "purging expired sessions failed");
                }
                // Cancellations due today first, so their notices go out
                // in the same pass.
                if let Err(e) = registry.settle_cancellations_daily().await {
                    tracing::warn!(error = %e, "settling cancellations failed");
                }
                if let Err(e) = notifier.deliver_due().await {
                    tracing::warn!(error = %e, "outbox pass failed");
                }
                tokio::time::sleep(Duration::from_millis(crate::OUTBOX_POLL_MS)).await;
            }
        });
        let router = shucang_web::registry::registry_router(
            shucang_web::registry::RegistryState::new(services.registry.clone()),
        );
        let served = shucang_web::serve(listener, router, limits, shutdown).await;
        outbox.abort();
        services.store.close().await;
        served.context("serving HTTP")
    }
}

/// The registry's quotas, from `[registry.limits]`.
fn filer_limits(l: &shucang_config::RegistryLimits) -> shucang_registry::FilerLimits {
    shucang_registry::FilerLimits {
        drafts_max: l.drafts_per_filer,
        storage_bytes_max: i64::from(l.storage_mib_per_filer) * 1024 * 1024,
        registrations_per_ip_per_hour: l.registrations_per_ip_per_hour,
        registrations_per_email_per_hour: l.registrations_per_email_per_hour,
    }
}
