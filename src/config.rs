//! The one place for configuration.
//!
//! Sources, later ones winning: built-in defaults < TOML file < `LINLI_*` environment
//! variables < command-line flags. Flags and environment variables are read by clap
//! (see [`Overrides`]); the file is found through `--config`/`LINLI_CONFIG`, else
//! `./linli.toml`, else `<data dir>/linli.toml`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./linli-data";

/// Options every server-touching command accepts (flags, or the same through env).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    /// Configuration file (TOML).
    #[arg(long, env = "LINLI_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "LINLI_LISTEN", global = true)]
    pub listen: Option<String>,
    /// Directory for the SQLite database, keys, photos and backups.
    #[arg(long, env = "LINLI_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… (default: SQLite in the data dir).
    #[arg(long, env = "LINLI_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Log as JSON lines instead of plain text (`--log-json`, or `--log-json=false`).
    #[arg(long, env = "LINLI_LOG_JSON", global = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub log_json: Option<bool>,
    /// The address users reach the server at; `https://` makes cookies `Secure`.
    #[arg(long, env = "LINLI_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// PostgreSQL pool size; on SQLite, the most reader connections (2–4).
    #[arg(long, env = "LINLI_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,
    /// The largest request body, in bytes.
    #[arg(long, env = "LINLI_MAX_BODY_BYTES", global = true)]
    pub max_body_bytes: Option<usize>,
}

/// The personal-data key may come from the environment (a container's secret), never from
/// a flag, which other users of the machine could read in the process list.
const PII_KEY_ENV: &str = "LINLI_PII_KEY";

/// The TOML file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log_json: Option<bool>,
    public_url: Option<String>,
    pii_key: Option<String>,
    db_max_connections: Option<u32>,
    max_body_bytes: Option<usize>,
    map_tiles: Option<String>,
    map_attribution: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: SecretString,
    pub log_json: bool,
    /// The address users reach the server at; `https://` makes cookies `Secure`.
    pub public_url: Option<String>,
    /// Base64 of the 32-byte key for personal data; when absent, `<data dir>/pii.key`.
    pub pii_key: Option<SecretString>,
    pub db_max_connections: u32,
    pub max_body_bytes: usize,
    /// A tile server to draw under the grid maps (`https://…/{z}/{x}/{y}…`, with `{s}` for
    /// its subdomains when it has them), such as 天地图 with the operator's key; without
    /// one, the maps are drawn on their own.
    pub map_tiles: Option<String>,
    /// The map's credit line, as the tile server asks to be named.
    pub map_attribution: Option<String>,
    /// Which file was read, if any.
    pub source_file: Option<PathBuf>,
}

/// A tile address the pages can use: on the web, with the three places a tile's number goes.
fn check_tiles(t: &str) -> anyhow::Result<()> {
    let web = t.starts_with("https://") || t.starts_with("http://");
    let placed = ["{z}", "{x}", "{y}"].iter().all(|p| t.contains(p));
    if !web || !placed || t.chars().any(|c| c.is_control() || c == '"' || c == '<') {
        bail!("map_tiles must be an http(s) address with {{z}}, {{x}} and {{y}} (got {t})");
    }
    Ok(())
}

impl Config {
    /// Where people reach this server from outside (a QR code on paper points there): the
    /// configured public address, else the address it listens on.
    pub fn public_base(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen)).trim_end_matches('/').to_string()
    }

    pub fn load(o: &Overrides) -> anyhow::Result<Config> {
        let (file, source_file) = match find_file(o)? {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                let parsed: FileConfig =
                    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))?;
                (parsed, Some(path))
            }
            None => (FileConfig::default(), None),
        };
        let data_dir = o.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url =
            o.database_url.clone().or(file.database_url).unwrap_or_else(|| default_sqlite_url(&data_dir));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            bail!("database_url must start with sqlite: or postgres:// (got {})", redact_url(&database_url));
        }
        if let Some(t) = &file.map_tiles {
            check_tiles(t)?;
        }
        Ok(Config {
            listen: o.listen.clone().or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_string()),
            database_url: SecretString::from(database_url),
            data_dir,
            log_json: o.log_json.or(file.log_json).unwrap_or(false),
            public_url: o.public_url.clone().or(file.public_url),
            pii_key: std::env::var(PII_KEY_ENV).ok().filter(|k| !k.is_empty()).or(file.pii_key).map(SecretString::from),
            db_max_connections: o.db_max_connections.or(file.db_max_connections).unwrap_or(10),
            max_body_bytes: o.max_body_bytes.or(file.max_body_bytes).unwrap_or(2 * 1024 * 1024),
            map_tiles: file.map_tiles,
            map_attribution: file.map_attribution,
            source_file,
        })
    }

    /// A configuration for tests and tools: everything default but the two given.
    pub fn for_paths(data_dir: &Path, database_url: Option<&str>) -> Config {
        Config {
            listen: DEFAULT_LISTEN.into(),
            data_dir: data_dir.to_path_buf(),
            database_url: SecretString::from(
                database_url.map(str::to_string).unwrap_or_else(|| default_sqlite_url(data_dir)),
            ),
            log_json: false,
            public_url: None,
            pii_key: None,
            db_max_connections: 10,
            max_body_bytes: 2 * 1024 * 1024,
            map_tiles: None,
            map_attribution: None,
            source_file: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.expose_secret().starts_with("postgres")
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// The effective configuration as TOML, secrets hidden (`linli config`).
    pub fn display_toml(&self) -> String {
        let mut out = String::new();
        if let Some(f) = &self.source_file {
            out.push_str(&format!("# read from {}\n", f.display()));
        }
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        out.push_str(&format!("listen = {}\n", q(&self.listen)));
        out.push_str(&format!("data_dir = {}\n", q(&self.data_dir.display().to_string())));
        out.push_str(&format!("database_url = {}\n", q(&redact_url(self.database_url.expose_secret()))));
        out.push_str(&format!("log_json = {}\n", self.log_json));
        if let Some(u) = &self.public_url {
            out.push_str(&format!("public_url = {}\n", q(u)));
        }
        let key = if self.pii_key.is_some() {
            "\"(set, hidden)\"".to_string()
        } else {
            q(&format!("(from {})", self.data_dir.join("pii.key").display()))
        };
        out.push_str(&format!("pii_key = {key}\n"));
        out.push_str(&format!("db_max_connections = {}\n", self.db_max_connections));
        out.push_str(&format!("max_body_bytes = {}\n", self.max_body_bytes));
        out
    }
}

fn find_file(o: &Overrides) -> anyhow::Result<Option<PathBuf>> {
    if let Some(p) = &o.config {
        if !p.exists() {
            bail!("config file {} does not exist", p.display());
        }
        return Ok(Some(p.clone()));
    }
    let local = PathBuf::from("linli.toml");
    if local.exists() {
        return Ok(Some(local));
    }
    let in_data = o.data_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)).join("linli.toml");
    Ok(in_data.exists().then_some(in_data))
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("linli.db").display())
}

/// Hides the password of a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_sources_win() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/linli\"\nlog_json = true\n").unwrap();
        let from_file = Config::load(&Overrides { config: Some(file.clone()), ..Default::default() }).unwrap();
        assert_eq!(from_file.listen, "0.0.0.0:9000");
        assert_eq!(from_file.data_dir, PathBuf::from("/srv/linli"));
        assert!(from_file.log_json);
        assert!(from_file.database_url.expose_secret().starts_with("sqlite:///srv/linli/"));

        let flagged =
            Config::load(&Overrides { config: Some(file), listen: Some("127.0.0.1:1".into()), ..Default::default() })
                .unwrap();
        assert_eq!(flagged.listen, "127.0.0.1:1");
        assert_eq!(flagged.data_dir, PathBuf::from("/srv/linli"));
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        assert!(Config::load(&Overrides { config: Some(file), ..Default::default() }).is_err());
        let bad = Overrides { database_url: Some("mysql://x".into()), ..Default::default() };
        assert!(Config::load(&bad).is_err());
    }

    #[test]
    fn secrets_are_hidden() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        let mut c = Config::for_paths(Path::new("/d"), Some("postgres://u:pw@h/db"));
        c.pii_key = Some(SecretString::from("abc".to_string()));
        let shown = c.display_toml();
        assert!(!shown.contains("pw@") && !shown.contains("abc"), "{shown}");
    }
}
