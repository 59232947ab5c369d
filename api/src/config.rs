//! Settings from flags and environment variables, with defaults that run out of the box.

use std::path::PathBuf;
use std::time::Duration;

use domain::sla::SlaPolicy;

use crate::db::DatabaseUrl;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";

#[derive(Debug, Clone)]
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
    pub dispatch: DispatchSettings,
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
            dispatch: DispatchSettings::default(),
        }
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.data_dir.join("attachments")
    }
}

/// The SQLite file under the data dir, when `DATABASE_URL` is not set.
pub fn default_database_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}", data_dir.join("claimroute.db").display())
}

/// `JWT_SECRET` if set; otherwise a random secret kept in the data dir, so tokens survive a
/// restart of a single server but no two installations share a secret.
pub fn load_or_create_secret(
    from_env: Option<String>,
    data_dir: &std::path::Path,
) -> anyhow::Result<Vec<u8>> {
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
    let hex = hex::encode(secret).into_bytes();
    std::fs::write(&path, &hex)?;
    Ok(hex)
}
