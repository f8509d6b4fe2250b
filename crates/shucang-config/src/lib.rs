//! Configuration and secrets for shucang's servers.
//!
//! Configuration is layered, later layers winning: defaults in code, then a
//! TOML file (`--config`), then `SHUCANG_`-prefixed environment variables
//! (`SHUCANG_LISTEN`, `SHUCANG_ACCOUNTS__SESSION_IDLE_MINUTES` — a double
//! underscore descends into a table), then command-line flags, which the
//! binary applies. Unknown keys are errors in every layer, so a typo never
//! passes silently. The filing registry's settings are the `[registry]`
//! table ([`RegistryConfig`]; `SHUCANG_REGISTRY__PUBLIC_URL`), under the same
//! rules.
//!
//! Secrets ([`Secrets`]) never live in the configuration: each comes from its
//! own environment variable or from a file with mode 0600 under
//! `<data-dir>/secrets/`, created on first start.
//!
//! **Architecture invariant:** this crate knows nothing of HTTP, SQL or the
//! domain; it reads files and the environment it is handed, nothing else.
//!
//! ```
//! let config = shucang_config::Config::load(None, std::iter::empty()).unwrap();
//! assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
//! ```

mod layered;
mod secrets;

pub use layered::{
    AccountsConfig, ChainSettings, Config, ConfigError, ContentSettings, ENV_PREFIX, GiftSettings,
    OrdersSettings, RegistryConfig, RegistryLimits, ServerSettings, SiteSettings, WitnessSetting,
    is_public_url,
};
pub use secrets::{SecretError, SecretKey, Secrets, load_or_create_key};
