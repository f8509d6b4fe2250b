//! The layered configuration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The prefix of every environment variable shucang reads.
pub const ENV_PREFIX: &str = "SHUCANG_";

/// Environment variables with the prefix that are not configuration keys:
/// secrets (read by [`crate::Secrets`]) and test settings.
fn is_reserved_env(name: &str) -> bool {
    name.starts_with("SHUCANG_TEST_") || crate::secrets::is_secret_env(name)
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An environment variable names a key inside something that is not a table.
    #[error("environment variable {0} does not name a configuration key")]
    EnvKey(String),
    /// A key is unknown or a value has the wrong type or range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Settings of accounts and sessions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountsConfig {
    /// Minutes of inactivity after which a session expires (1–1440).
    pub session_idle_minutes: u32,
    /// Consecutive failed logins that lock an account (1–100).
    pub login_failures_max: u32,
    /// Minutes an account stays locked (1–10080).
    pub lockout_minutes: u32,
    /// Self-registrations from one address per hour (1–10000).
    pub registrations_per_ip_per_hour: u32,
    /// Registration codes sent to one mobile number per hour (1–100).
    pub codes_per_phone_per_hour: u32,
    /// Registration codes asked for from one address per hour (1–10000).
    pub codes_per_ip_per_hour: u32,
}

impl Default for AccountsConfig {
    fn default() -> AccountsConfig {
        AccountsConfig {
            session_idle_minutes: 30,
            login_failures_max: 5,
            lockout_minutes: 30,
            registrations_per_ip_per_hour: 10,
            codes_per_phone_per_hour: 5,
            codes_per_ip_per_hour: 20,
        }
    }
}

/// Settings of the embedded chain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainSettings {
    /// Crypto suite for a new chain: `ed25519-sha256` or `sm2-sm3`. An
    /// existing chain keeps the suite of its genesis; a different setting
    /// stops start-up.
    pub suite: String,
    /// The chain's name for a new genesis (checkpoint origin), e.g.
    /// `chain.example.cn/shucang`.
    pub origin: String,
    /// Threads that check signatures; 0 means one per CPU.
    pub verify_threads: usize,
    /// Extra operator public keys (hex) for a new genesis.
    pub operators: Vec<String>,
    /// Witnesses the node sends each new checkpoint to; their cosignatures
    /// are published with the checkpoint.
    pub witnesses: Vec<WitnessSetting>,
}

/// One witness of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessSetting {
    /// Its base URL (`POST <url>/add-checkpoint`).
    pub url: String,
    /// Its cosigner verifier key (type 0x04).
    pub vkey: String,
}

impl Default for ChainSettings {
    fn default() -> ChainSettings {
        ChainSettings {
            suite: "ed25519-sha256".to_owned(),
            origin: "shucang.local/chain".to_owned(),
            verify_threads: 0,
            operators: Vec::new(),
            witnesses: Vec::new(),
        }
    }
}

/// What every page footer shows (Art. 13): the operator's filing and
/// licence numbers. Absent values show as "not configured", never as fake
/// numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteSettings {
    /// The site's name.
    pub name: Option<String>,
    /// 区块链信息服务备案编号.
    pub blockchain_filing_number: Option<String>,
    /// ICP licence or filing number.
    pub icp_number: Option<String>,
    /// Public-security (公安) filing number.
    pub public_security_filing_number: Option<String>,
    /// The technical provider's full name.
    pub technical_provider: Option<String>,
    /// The site's public base URL (`https://example.cn`), printed on
    /// certificates and encoded in their QR codes. When absent, pages use
    /// the address the browser asked for.
    pub public_url: Option<String>,
    /// A TrueType/OpenType font (or collection) with Chinese glyphs for
    /// the certificate PNG. When absent, a common system CJK font is used
    /// if one is installed; without any, the PNG is not offered.
    pub certificate_font: Option<PathBuf>,
    /// The face inside a font collection (`.ttc`); 0 for a single font.
    pub certificate_font_index: u32,
}

/// Orders and payment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrdersSettings {
    /// Minutes an unpaid reservation holds its editions (1–120).
    pub payment_window_minutes: u32,
}

impl Default for OrdersSettings {
    fn default() -> OrdersSettings {
        OrdersSettings {
            payment_window_minutes: 10,
        }
    }
}

/// Gifting rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GiftSettings {
    /// Days after buying before a collectible may be gifted (0–3650).
    pub after_purchase_days: u32,
    /// Days after receiving a gift before gifting it on (0–3650).
    pub after_gift_days: u32,
    /// Gifts per account per day (1–100).
    pub daily_limit: u32,
}

impl Default for GiftSettings {
    fn default() -> GiftSettings {
        GiftSettings {
            after_purchase_days: 180,
            after_gift_days: 720,
            daily_limit: 3,
        }
    }
}

/// Content review: the filter's keyword lists (absent lists use the
/// built-in ones) and the four-eyes rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentSettings {
    /// Words that stop a submission.
    pub block: Option<Vec<String>>,
    /// Words that send a submission to review marked.
    pub flag: Option<Vec<String>>,
    /// A reviewer may not approve a work they submitted themselves: a
    /// second person must (default on).
    pub four_eyes: bool,
}

impl Default for ContentSettings {
    fn default() -> ContentSettings {
        ContentSettings {
            block: None,
            flag: None,
            four_eyes: true,
        }
    }
}

/// What one HTTP server lets a client hold: connections and how long each
/// may take to send its request or stay silent. The platform's are
/// `[server]`, the registry's `[registry.server]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Connections served at once (1–100000); further ones wait in the
    /// listen backlog until one closes.
    pub connections_max: u32,
    /// Seconds a client has to send a request's headers (1–300), counted
    /// from when the connection waits for a request: a connection silent
    /// this long, at first or between requests, is closed.
    pub header_read_timeout_seconds: u32,
    /// Seconds a client has to send a request's body once its headers are
    /// in (1–3600).
    pub body_read_timeout_seconds: u32,
    /// Seconds an answer may wait for a client that does not read it
    /// before the connection is closed (1–3600).
    pub send_timeout_seconds: u32,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed
    /// (exact IP addresses, at most 64); empty: the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            connections_max: 1024,
            header_read_timeout_seconds: 15,
            body_read_timeout_seconds: 60,
            send_timeout_seconds: 60,
            trusted_proxies: Vec::new(),
        }
    }
}

impl ServerSettings {
    /// Checks the ranges; `table` names the settings in the message.
    fn validate(&self, table: &str) -> Result<(), ConfigError> {
        let ranges = [
            ("connections_max", self.connections_max, 100_000),
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds,
                300,
            ),
            (
                "body_read_timeout_seconds",
                self.body_read_timeout_seconds,
                3600,
            ),
            ("send_timeout_seconds", self.send_timeout_seconds, 3600),
        ];
        check_ranges(table, &ranges)?;
        if self.trusted_proxies.len() > 64 {
            return Err(ConfigError::Invalid(format!(
                "{table}.trusted_proxies holds at most 64 addresses"
            )));
        }
        Ok(())
    }
}

/// What one filer, or one stranger, may make the registry keep or send:
/// `[registry.limits]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryLimits {
    /// Drafts (never submitted) one filer may hold (1–100).
    pub drafts_per_filer: u32,
    /// MiB of uploads one filer may hold over all applications (1–10240).
    pub storage_mib_per_filer: u32,
    /// Registrations from one address per hour (1–10000).
    pub registrations_per_ip_per_hour: u32,
    /// Registrations naming one e-mail address per hour (1–100).
    pub registrations_per_email_per_hour: u32,
}

impl Default for RegistryLimits {
    fn default() -> RegistryLimits {
        RegistryLimits {
            drafts_per_filer: 5,
            storage_mib_per_filer: 200,
            registrations_per_ip_per_hour: 5,
            registrations_per_email_per_hour: 3,
        }
    }
}

impl RegistryLimits {
    fn validate(&self) -> Result<(), ConfigError> {
        let ranges = [
            ("drafts_per_filer", self.drafts_per_filer, 100),
            ("storage_mib_per_filer", self.storage_mib_per_filer, 10_240),
            (
                "registrations_per_ip_per_hour",
                self.registrations_per_ip_per_hour,
                10_000,
            ),
            (
                "registrations_per_email_per_hour",
                self.registrations_per_email_per_hour,
                100,
            ),
        ];
        check_ranges("registry.limits", &ranges)
    }
}

/// Checks `(key, value, max)` triples against `1..=max`, naming the first
/// that falls outside as `table.key`.
fn check_ranges(table: &str, ranges: &[(&str, u32, u32)]) -> Result<(), ConfigError> {
    match ranges.iter().find(|(_, v, max)| !(1..=*max).contains(v)) {
        Some((key, _, max)) => Err(ConfigError::Invalid(format!(
            "{table}.{key} must be between 1 and {max}"
        ))),
        None => Ok(()),
    }
}

/// The filing registry's settings (`shucang registry …`), a second
/// application with its own data directory and database: the `[registry]`
/// table, `SHUCANG_REGISTRY__*` variables.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Its own data directory (database file, uploads, secrets).
    pub data_dir: PathBuf,
    /// Database URL; when absent, `sqlite://<data_dir>/registry.db`.
    pub database_url: Option<String>,
    /// The public base URL, for links in e-mails; the listen address when
    /// absent.
    pub public_url: Option<String>,
    /// Connection limit and timeouts.
    pub server: ServerSettings,
    /// Quotas and rate limits of filers and strangers.
    pub limits: RegistryLimits,
}

impl RegistryConfig {
    /// The defaults: 127.0.0.1:8090, `./registry-data`.
    pub fn new() -> RegistryConfig {
        RegistryConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            data_dir: PathBuf::from("./registry-data"),
            database_url: None,
            public_url: None,
            server: ServerSettings::default(),
            limits: RegistryLimits::default(),
        }
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("registry.db").display()),
        }
    }
}

impl Default for RegistryConfig {
    fn default() -> RegistryConfig {
        RegistryConfig::new()
    }
}

/// Whether `url` can start the links a server prints: `http(s)://`, no
/// trailing slash, at most 200 visible ASCII characters.
pub fn is_public_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.ends_with('/')
        && url.len() <= 200
        && url.bytes().all(|b| b.is_ascii_graphic())
}

/// The platform server's configuration (and, in `registry`, the filing
/// registry's).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the database file, the chain and secrets.
    pub data_dir: PathBuf,
    /// Database URL; when absent, `sqlite://<data_dir>/shucang.db`.
    pub database_url: Option<String>,
    /// Log filter in `tracing` syntax (`info`, `shucang=debug,info`).
    pub log: String,
    /// Connection limit and timeouts.
    pub server: ServerSettings,
    /// Accounts and sessions.
    pub accounts: AccountsConfig,
    /// The embedded chain.
    pub chain: ChainSettings,
    /// The content filter.
    pub content: ContentSettings,
    /// Orders and payment.
    pub orders: OrdersSettings,
    /// Gifting.
    pub gifts: GiftSettings,
    /// Footer information.
    pub site: SiteSettings,
    /// The filing registry.
    pub registry: RegistryConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            log: "info".to_owned(),
            server: ServerSettings::default(),
            accounts: AccountsConfig::default(),
            chain: ChainSettings::default(),
            content: ContentSettings::default(),
            orders: OrdersSettings::default(),
            gifts: GiftSettings::default(),
            site: SiteSettings::default(),
            registry: RegistryConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults, then `file` if given, then the `SHUCANG_` variables
    /// among `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str::<toml::Table>(&text).map_err(|e| ConfigError::Syntax {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => toml::Table::new(),
        };
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && !is_reserved_env(k))
            .collect();
        env.sort();
        for (name, raw) in env {
            overlay_env(&mut table, &name, &raw)?;
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        config.validate()?;
        Ok(config)
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("shucang.db").display()),
        }
    }

    /// Checks ranges that types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError::Invalid(what.to_owned()))
            }
        };
        let a = &self.accounts;
        check_ranges(
            "accounts",
            &[
                ("session_idle_minutes", a.session_idle_minutes, 1440),
                ("login_failures_max", a.login_failures_max, 100),
                ("lockout_minutes", a.lockout_minutes, 10080),
                (
                    "registrations_per_ip_per_hour",
                    a.registrations_per_ip_per_hour,
                    10_000,
                ),
                ("codes_per_phone_per_hour", a.codes_per_phone_per_hour, 100),
                ("codes_per_ip_per_hour", a.codes_per_ip_per_hour, 10_000),
            ],
        )?;
        check(
            matches!(self.chain.suite.as_str(), "ed25519-sha256" | "sm2-sm3"),
            "chain.suite must be ed25519-sha256 or sm2-sm3",
        )?;
        check(
            self.site.public_url.as_deref().is_none_or(is_public_url),
            "site.public_url must be an http(s) URL without a trailing slash",
        )?;
        check(
            self.registry
                .public_url
                .as_deref()
                .is_none_or(is_public_url),
            "registry.public_url must be an http(s) URL without a trailing slash",
        )?;
        check(
            !self.registry.data_dir.as_os_str().is_empty(),
            "registry.data_dir must not be empty",
        )?;
        // The footer number is checked by the registry's own function:
        // shape, province and MOD 11-2 check character.
        check(
            self.site
                .blockchain_filing_number
                .as_deref()
                .is_none_or(|n| shucang_types::FilingNumber::parse(n).is_ok()),
            "site.blockchain_filing_number must be a valid filing number such as 京网信备1101081963896882001X号 (province, 网信备, 19 digits and a check character, 号)",
        )?;
        let window = self.orders.payment_window_minutes;
        check_ranges("orders", &[("payment_window_minutes", window, 120)])?;
        check(
            self.gifts.after_purchase_days <= 3650 && self.gifts.after_gift_days <= 3650,
            "gifts.after_purchase_days and gifts.after_gift_days must be between 0 and 3650",
        )?;
        check_ranges("gifts", &[("daily_limit", self.gifts.daily_limit, 100)])?;
        check(
            self.chain.verify_threads <= 64,
            "chain.verify_threads must be between 0 (one per CPU) and 64",
        )?;
        self.server.validate("server")?;
        self.registry.server.validate("registry.server")?;
        self.registry.limits.validate()?;
        check(
            !self.data_dir.as_os_str().is_empty(),
            "data_dir must not be empty",
        )
    }
}

/// Puts one environment variable into the table: `SHUCANG_A__B=v` sets
/// `a.b = v`. The value is read as a TOML value when it is one (`30`,
/// `true`), else as a string (`127.0.0.1:8080`).
fn overlay_env(table: &mut toml::Table, name: &str, raw: &str) -> Result<(), ConfigError> {
    let key = name[ENV_PREFIX.len()..].to_ascii_lowercase();
    let path: Vec<&str> = key.split("__").collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::EnvKey(name.to_owned()));
    }
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !v.is_table())
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| ConfigError::EnvKey(name.to_owned()))?;
    let mut node = table;
    for part in parents {
        let entry = node
            .entry((*part).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        node = entry
            .as_table_mut()
            .ok_or_else(|| ConfigError::EnvKey(name.to_owned()))?;
    }
    node.insert((*last).to_owned(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The configuration from a file holding `toml` and the variables
    /// `pairs`.
    fn load_file(toml: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "{toml}").unwrap();
        Config::load(Some(f.path()), env(pairs))
    }

    /// The error the variables `pairs` give, as text.
    fn bad(pairs: &[(&str, &str)]) -> String {
        Config::load(None, env(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn defaults() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.database_url(), "sqlite://./data/shucang.db");
        assert_eq!(c.accounts.session_idle_minutes, 30);
    }

    #[test]
    fn file_overrides_defaults_and_env_overrides_file() {
        let c = load_file(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/sc\"\n[accounts]\nsession_idle_minutes = 10\nlockout_minutes = 5",
            &[
                ("SHUCANG_ACCOUNTS__SESSION_IDLE_MINUTES", "15"),
                ("SHUCANG_DATABASE_URL", "postgres://u@h/db"),
                ("SHUCANG_TEST_POSTGRES_URL", "ignored"),
                ("SHUCANG_SESSION_KEY", "ignored here"),
                ("OTHER", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.data_dir, PathBuf::from("/srv/sc"));
        assert_eq!(c.accounts.session_idle_minutes, 15);
        assert_eq!(c.accounts.lockout_minutes, 5);
        assert_eq!(c.accounts.login_failures_max, 5);
        assert_eq!(c.database_url(), "postgres://u@h/db");
    }

    #[test]
    fn the_registry_has_its_own_table_with_the_same_rules() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.registry, RegistryConfig::new());
        assert_eq!(c.registry.listen.to_string(), "127.0.0.1:8090");
        assert_eq!(
            c.registry.database_url(),
            "sqlite://./registry-data/registry.db"
        );
        let c = load_file(
            "data_dir = \"/srv/platform\"\n[registry]\nlisten = \"0.0.0.0:9090\"\ndata_dir = \"/srv/registry\"",
            &[
                ("SHUCANG_REGISTRY__PUBLIC_URL", "https://beian.example.cn"),
                ("SHUCANG_REGISTRY__DATABASE_URL", "postgres://u@h/registry"),
            ],
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/srv/platform"));
        assert_eq!(c.registry.listen.to_string(), "0.0.0.0:9090");
        assert_eq!(c.registry.data_dir, PathBuf::from("/srv/registry"));
        assert_eq!(
            c.registry.public_url.as_deref(),
            Some("https://beian.example.cn")
        );
        assert_eq!(c.registry.database_url(), "postgres://u@h/registry");
        assert!(bad(&[("SHUCANG_REGISTRY__LISTN", "x")]).contains("unknown field"));
        assert!(bad(&[("SHUCANG_REGISTRY__LISTEN", "8090")]).contains("invalid"));
        assert!(bad(&[("SHUCANG_REGISTRY__DATA_DIR", "")]).contains("registry.data_dir"));
        for url in ["beian.example.cn", "https://beian.example.cn/", "ftp://x"] {
            assert!(
                bad(&[("SHUCANG_REGISTRY__PUBLIC_URL", url)]).contains("registry.public_url"),
                "{url}"
            );
        }
    }

    #[test]
    fn mistakes_are_errors() {
        assert!(bad(&[("SHUCANG_LISTN", "x")]).contains("unknown field"));
        assert!(bad(&[("SHUCANG_LISTEN", "not-an-address")]).contains("invalid"));
        assert!(bad(&[("SHUCANG_ACCOUNTS__SESSION_IDLE_MINUTES", "0")]).contains("between"));
        assert!(bad(&[("SHUCANG_ACCOUNTS__SESSION_IDLE_MINUTES", "-3")]).contains("invalid"));
        assert!(bad(&[("SHUCANG_LOG__X", "1")]).contains("invalid"));
        assert!(bad(&[("SHUCANG_ACCOUNTS__", "1")]).contains("does not name"));
        assert!(bad(&[("SHUCANG_CHAIN__SUITE", "rsa")]).contains("chain.suite"));
        for (key, value, names) in [
            (
                "SHUCANG_SERVER__CONNECTIONS_MAX",
                "0",
                "server.connections_max",
            ),
            (
                "SHUCANG_SERVER__HEADER_READ_TIMEOUT_SECONDS",
                "301",
                "server.header_read_timeout_seconds",
            ),
            (
                "SHUCANG_REGISTRY__SERVER__SEND_TIMEOUT_SECONDS",
                "0",
                "registry.server.send_timeout_seconds",
            ),
        ] {
            assert!(bad(&[(key, value)]).contains(names), "{key}");
        }
        let tuned = Config::load(
            None,
            env(&[
                ("SHUCANG_SERVER__CONNECTIONS_MAX", "8"),
                ("SHUCANG_REGISTRY__SERVER__BODY_READ_TIMEOUT_SECONDS", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(tuned.server.connections_max, 8);
        assert_eq!(tuned.registry.server.body_read_timeout_seconds, 5);
        assert_eq!(tuned.registry.server.connections_max, 1024);
        let e = bad(&[("SHUCANG_REGISTRY__LIMITS__DRAFTS_PER_FILER", "0")]);
        assert!(e.contains("registry.limits.drafts_per_filer"), "{e}");
        for url in [
            "example.cn",
            "https://example.cn/",
            "javascript:x",
            "https://a b.cn",
        ] {
            assert!(
                bad(&[("SHUCANG_SITE__PUBLIC_URL", url)]).contains("site.public_url"),
                "{url}"
            );
        }
        for number in [
            "京网信备11010819638968820010号",
            "沪网信备1101081963896882001X号",
            "京网信备",
        ] {
            assert!(
                bad(&[("SHUCANG_SITE__BLOCKCHAIN_FILING_NUMBER", number)])
                    .contains("site.blockchain_filing_number"),
                "{number}"
            );
        }
        let filed = Config::load(
            None,
            env(&[(
                "SHUCANG_SITE__BLOCKCHAIN_FILING_NUMBER",
                "京网信备1101081963896882001X号",
            )]),
        );
        assert!(filed.is_ok());
        let ok = Config::load(
            None,
            env(&[("SHUCANG_SITE__PUBLIC_URL", "https://nft.example.cn")]),
        );
        assert_eq!(
            ok.unwrap().site.public_url.as_deref(),
            Some("https://nft.example.cn")
        );

        let e = load_file("listen = ", &[]).unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
        let e = Config::load(Some(Path::new("/nonexistent/shucang.toml")), env(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    }
}
