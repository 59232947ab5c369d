//! Settings. Every environment variable the server reads is declared here, once, as a flag
//! with its variable ([`ServerArgs`], [`CommonArgs`]); the README lists them with their
//! defaults. Defaults run out of the box on one machine.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::sla::SlaPolicy;

use crate::db::DatabaseUrl;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";

/// What every command needs: where the data lives.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// `sqlite://PATH` or `postgres://...`; default: a SQLite file in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Where attachments, the SQLite file and the generated JWT secret live.
    #[arg(long, env = "DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
    pub data_dir: PathBuf,
    /// Log filter, e.g. `info` or `api=debug,warn`.
    #[arg(long, env = "RUST_LOG", default_value = "info", global = true)]
    pub log: String,
    /// `text` (no colours unless the log goes to a terminal) or `json` (one object a line).
    #[arg(long, env = "LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,
}

impl CommonArgs {
    pub fn database_url(&self) -> anyhow::Result<DatabaseUrl> {
        let url = self
            .database_url
            .clone()
            .unwrap_or_else(|| default_database_url(&self.data_dir));
        DatabaseUrl::parse(&url)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What `claimroute serve` reads.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on (only 127.0.0.1 unless told otherwise).
    #[arg(long, env = "BIND_ADDR", default_value = DEFAULT_BIND)]
    pub bind: String,
    /// HS256 secret of the access tokens, at least 32 bytes; set it when several replicas
    /// share a database. Default: generated once into `$DATA_DIR/jwt_secret`.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// SLA hours per stage, e.g. `decision=12,new=8` (the others keep their defaults).
    #[arg(long, env = "SLA_HOURS", value_parser = parse_sla)]
    pub sla_hours: Option<SlaPolicy>,
    /// Largest attachment, in bytes.
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Average courier speed on roads, km/h.
    #[arg(long, env = "TRAVEL_SPEED_KMH", default_value_t = 30.0, value_parser = positive)]
    pub travel_speed_kmh: f64,
    /// Road distance = great-circle distance x this.
    #[arg(long, env = "TRAVEL_DETOUR", default_value_t = 1.3, value_parser = positive)]
    pub travel_detour: f64,
    /// Planner budget when `POST /plans` names none, in milliseconds.
    #[arg(long, env = "PLAN_TIME_LIMIT_MS", default_value_t = 10_000)]
    pub plan_time_limit_ms: u64,
    /// Seed the demo city (idempotent) and print its logins.
    #[arg(long)]
    pub demo: bool,
    /// Password of the demo logins; a random one is generated and printed otherwise.
    #[arg(long, env = "DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
}

fn parse_sla(spec: &str) -> Result<SlaPolicy, String> {
    SlaPolicy::parse(spec)
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("must be a positive number, got `{text}`")),
    }
}

/// The SLA policy of a command that files claims, from `SLA_HOURS` (the load seeding
/// reads it too, so its claims get the server's deadlines).
#[derive(Debug, Clone, clap::Args)]
pub struct SlaArgs {
    #[arg(long = "sla-hours", env = "SLA_HOURS", value_parser = parse_sla)]
    pub sla_hours: Option<SlaPolicy>,
}

#[derive(Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub bind_addr: String,
    pub data_dir: PathBuf,
    pub jwt_secret: Vec<u8>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub max_upload_bytes: u64,
    pub sla: SlaPolicy,
    pub pool_size: u32,
    /// Seed the demo city; `Some(password)` gives the demo logins that password.
    pub demo_password: Option<String>,
    /// The day the demo city's shifts and visits are laid out from (`None`: today, by the
    /// clock). Tests pin it, so that their dates and the seed's agree across midnight.
    pub demo_today: Option<chrono::NaiveDate>,
    pub dispatch: DispatchSettings,
}

/// Settings never print their secrets, so they can be logged whole.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url)
            .field("bind_addr", &self.bind_addr)
            .field("data_dir", &self.data_dir)
            .field("jwt_secret", &"[redacted]")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("sla", &self.sla)
            .field("pool_size", &self.pool_size)
            .field(
                "demo_password",
                &self.demo_password.as_ref().map(|_| "[redacted]"),
            )
            .field("demo_today", &self.demo_today)
            .field("dispatch", &self.dispatch)
            .finish()
    }
}

/// How plans are computed and supervised.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Road distance = great-circle distance x this factor.
    pub detour: f64,
    /// Average courier speed on roads, km/h.
    pub speed_kmh: f64,
    /// Planner budget when a request names none, and the most a request may ask for.
    pub default_time_limit: Duration,
    pub max_time_limit: Duration,
    /// Planner threads per run (0 = one per core).
    pub threads: usize,
    /// A running plan whose runner has not reported for this long is marked failed.
    pub stale_after: Duration,
    /// Names this process in `plans.runner`.
    pub instance: String,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            detour: 1.3,
            speed_kmh: 30.0,
            default_time_limit: Duration::from_secs(10),
            max_time_limit: Duration::from_secs(600),
            threads: 0,
            stale_after: Duration::from_secs(60),
            instance: format!(
                "{}-{}",
                std::process::id(),
                hex::encode(rand::random::<[u8; 4]>())
            ),
        }
    }
}

impl Settings {
    /// Defaults for everything but the database, the data dir and the secret.
    pub fn new(database_url: DatabaseUrl, data_dir: PathBuf, jwt_secret: Vec<u8>) -> Self {
        Self {
            database_url,
            bind_addr: DEFAULT_BIND.to_owned(),
            data_dir,
            jwt_secret,
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            max_upload_bytes: 10 * 1024 * 1024,
            sla: SlaPolicy::default(),
            pool_size: 8,
            demo_password: None,
            demo_today: None,
            dispatch: DispatchSettings::default(),
        }
    }

    /// The settings of `claimroute serve`.
    pub fn from_args(common: &CommonArgs, server: ServerArgs) -> anyhow::Result<Self> {
        let secret = load_or_create_secret(server.jwt_secret, &common.data_dir)?;
        let mut settings = Self::new(common.database_url()?, common.data_dir.clone(), secret);
        settings.bind_addr = server.bind;
        settings.sla = server.sla_hours.unwrap_or_default();
        settings.max_upload_bytes = server.max_upload_bytes;
        settings.dispatch.speed_kmh = server.travel_speed_kmh;
        settings.dispatch.detour = server.travel_detour;
        settings.dispatch.default_time_limit = Duration::from_millis(server.plan_time_limit_ms);
        if server.demo {
            settings.demo_password = Some(
                server
                    .demo_password
                    .unwrap_or_else(|| hex::encode(rand::random::<[u8; 8]>())),
            );
        }
        Ok(settings)
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.data_dir.join("attachments")
    }
}

/// The SQLite file under the data dir, when `DATABASE_URL` is not set.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("claimroute.db").display())
}

/// `JWT_SECRET` if set; otherwise a random secret kept in the data dir, so tokens survive a
/// restart of a single server but no two installations share a secret.
pub fn load_or_create_secret(from_env: Option<String>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = from_env.filter(|s| !s.is_empty()) {
        anyhow::ensure!(
            secret.len() >= 32,
            "JWT_SECRET must be at least 32 bytes long"
        );
        return Ok(secret.into_bytes());
    }
    let path = data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read(&path) {
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let secret: [u8; 32] = rand::random();
    let hex = hex::encode(secret);
    std::fs::write(&path, &hex)?;
    Ok(hex.into_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_secrets() {
        let mut settings = Settings::new(
            DatabaseUrl::parse("postgres://app:hunter2-db@db.example:5432/claims").unwrap(),
            PathBuf::from("data"),
            b"a-secret-that-must-never-be-logged".to_vec(),
        );
        settings.demo_password = Some("demo-password-in-clear".to_owned());
        let printed = format!("{settings:?}");
        assert!(
            !printed.contains("a-secret-that-must-never-be-logged"),
            "{printed}"
        );
        assert!(!printed.contains("demo-password-in-clear"), "{printed}");
        assert!(!printed.contains("hunter2-db"), "{printed}");
        assert!(
            printed.contains("db.example"),
            "the rest stays readable: {printed}"
        );
    }
}
