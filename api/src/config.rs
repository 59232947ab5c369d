//! Settings. Every environment variable the server reads is declared here, once, as a flag
//! with its variable ([`ServerArgs`], [`CommonArgs`]); the README lists them with their
//! defaults. Defaults run out of the box on one machine.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::locale::Locale;
use domain::sla::SlaPolicy;

use crate::db::DatabaseUrl;

const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// OpenStreetMap's public tiles (attribution shown on the map).
pub const DEFAULT_TILES: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
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
    /// SQLite only: `full` (a write survives a power cut) or `normal` (faster; it survives
    /// a crash of the process, not always a power cut).
    #[arg(
        long,
        env = "SQLITE_SYNCHRONOUS",
        default_value = "full",
        global = true
    )]
    pub sqlite_synchronous: crate::db::Synchronous,
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
    /// Most pixels (width x height) of an uploaded image, read from its header.
    #[arg(long, env = "MAX_IMAGE_PIXELS", default_value_t = 40_000_000)]
    pub max_image_pixels: u64,
    /// Average courier speed on roads, km/h.
    #[arg(long, env = "TRAVEL_SPEED_KMH", default_value_t = 30.0, value_parser = positive)]
    pub travel_speed_kmh: f64,
    /// Road distance = great-circle distance x this.
    #[arg(long, env = "TRAVEL_DETOUR", default_value_t = 1.3, value_parser = positive)]
    pub travel_detour: f64,
    /// An OSRM service (`http://host:5000`) whose `/table` gives the planner road durations
    /// and distances; without it, great-circle distance x `TRAVEL_DETOUR` at `TRAVEL_SPEED_KMH`.
    #[arg(long, env = "OSRM_URL")]
    pub osrm_url: Option<String>,
    /// The OSRM profile asked for.
    #[arg(long, env = "OSRM_PROFILE", default_value = "car")]
    pub osrm_profile: String,
    /// What a courier's kilometre costs (fuel, vehicle): the planner's price and the delivery report.
    #[arg(long, env = "COURIER_COST_PER_KM", default_value_t = 0.35, value_parser = non_negative)]
    pub courier_cost_per_km: f64,
    /// What a courier's paid hour costs (wage), waiting included: the planner's price and the
    /// delivery report.
    #[arg(long, env = "COURIER_COST_PER_HOUR", default_value_t = 22.0, value_parser = non_negative)]
    pub courier_cost_per_hour: f64,
    /// Planner budget when `POST /plans` names none, in milliseconds.
    #[arg(long, env = "PLAN_TIME_LIMIT_MS", default_value_t = 10_000)]
    pub plan_time_limit_ms: u64,
    /// Failed visits a job gets before it stops going back to planning and its claim goes
    /// back to its manager.
    #[arg(long, env = "MAX_VISIT_ATTEMPTS", default_value_t = 3)]
    pub max_visit_attempts: i32,
    /// How often the live ETAs of the routes under way are re-timed, in seconds (reports
    /// and positions re-time their route at once).
    #[arg(long, env = "ETA_SWEEP_SECONDS", default_value_t = 60.0, value_parser = positive)]
    pub eta_sweep_seconds: f64,
    /// A new day is planned for each visit to begin at least this many minutes before its
    /// window ends (at most half the window), room kept for a day slower than the
    /// estimate; the plan is judged, and the customer told, by the promised window.
    #[arg(long, env = "PLAN_BUFFER_MINUTES", default_value_t = 15.0, value_parser = minutes_of_a_day)]
    pub plan_buffer_minutes: f64,
    /// Minutes the plan buffer grows by per hour of the day since the first shift starts
    /// (a day's delays add up leg after leg); 0 keeps it flat.
    #[arg(long, env = "PLAN_BUFFER_PER_HOUR_MINUTES", default_value_t = 0.0, value_parser = minutes_per_hour)]
    pub plan_buffer_per_hour_minutes: f64,
    /// A visit is flagged late, and its customer told, once its estimated arrival passes
    /// the end of the promised window less this many minutes.
    #[arg(long, env = "DELAY_MARGIN_MINUTES", default_value_t = 0.0, value_parser = minutes_of_a_day)]
    pub delay_margin_minutes: f64,
    /// New visits due on a published day (today or tomorrow) go on a route that can take
    /// them by themselves, within a second, and a visit flagged late today moves to a
    /// courier who can make it; no other stop moves or is made late.
    #[arg(
        long,
        env = "AUTO_REOPTIMIZE",
        default_value_t = false,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub auto_reoptimize: bool,
    /// How often overdue claims are looked for and escalated, in seconds.
    #[arg(long, env = "SLA_SWEEP_SECONDS", default_value_t = 60.0, value_parser = positive)]
    pub sla_sweep_seconds: f64,
    /// Courier positions are kept this many days after they arrive.
    #[arg(long, env = "POSITIONS_RETENTION_DAYS", default_value_t = 30)]
    pub positions_retention_days: u32,
    /// Notifications (and their delivery records) are kept this many days once every
    /// delivery of them is over.
    #[arg(long, env = "OUTBOX_RETENTION_DAYS", default_value_t = 90)]
    pub outbox_retention_days: u32,
    /// How often one of the replicas prunes what is past its retention, in seconds.
    #[arg(long, env = "RETENTION_SWEEP_SECONDS", default_value_t = 3600.0, value_parser = positive)]
    pub retention_sweep_seconds: f64,
    /// Serve `GET /metrics` (Prometheus) without a token on this address too, e.g.
    /// `127.0.0.1:9464` for a scraper on the same host; off by default (the API's own
    /// `/metrics` answers admins only).
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// The console map's tiles (`{z}`, `{x}`, `{y}`, optionally `{s}`); without reachable
    /// tiles the map still draws routes and stops on a plain background.
    #[arg(long, env = "MAP_TILES_URL", default_value = DEFAULT_TILES)]
    pub map_tiles_url: String,
    #[command(flatten)]
    pub notify: NotifyArgs,
    /// Seed the demo city (idempotent) and print its logins.
    #[arg(long)]
    pub demo: bool,
    /// Password of the demo logins; a random one is generated and printed otherwise.
    #[arg(long, env = "DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
    /// With `--demo`: add ten months of past claims and sales (a few hundred claims), so
    /// the reports have something to show.
    #[arg(long, requires = "demo")]
    pub demo_history: bool,
}

/// How people are told: mail, webhooks, their language.
#[derive(Debug, Clone, clap::Args)]
pub struct NotifyArgs {
    /// `smtp://host:port` (plain or STARTTLS when offered), `smtps://user:pass@host` (TLS).
    /// Without it mails are written as `.eml` files under `$DATA_DIR/outbox-mail/`.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of the mails.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "claimroute <no-reply@claimroute.invalid>"
    )]
    pub mail_from: String,
    /// Where people reach this server, for the links in mails (tracking pages).
    /// Default: `http://BIND_ADDR`.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The language of people who did not choose one: `en` or `ru`.
    #[arg(long, env = "DEFAULT_LOCALE", default_value = "en", value_parser = parse_locale)]
    pub default_locale: Locale,
    /// Read the mail templates from this folder instead of the ones built in (`api/templates`
    /// has the layout), so they can be edited without a new build.
    #[arg(long, env = "TEMPLATES_DIR")]
    pub templates_dir: Option<PathBuf>,
    /// Attempts at a delivery (mail or webhook call) before it is given up as dead.
    #[arg(long, env = "DELIVERY_MAX_ATTEMPTS", default_value_t = 8)]
    pub delivery_max_attempts: i32,
    /// The first retry's delay in seconds; each next one doubles, with jitter, up to an hour.
    #[arg(long, env = "DELIVERY_BACKOFF_SECONDS", default_value_t = 5.0, value_parser = positive)]
    pub delivery_backoff_seconds: f64,
    /// How long a webhook receiver has to answer, in seconds.
    #[arg(long, env = "WEBHOOK_TIMEOUT_SECONDS", default_value_t = 10.0, value_parser = positive)]
    pub webhook_timeout_seconds: f64,
    /// How long a worker holds the deliveries it took, in seconds: if its process dies,
    /// another worker sends them again after this.
    #[arg(long, env = "DELIVERY_LEASE_SECONDS", default_value_t = 60.0, value_parser = positive)]
    pub delivery_lease_seconds: f64,
}

fn parse_locale(text: &str) -> Result<Locale, String> {
    text.parse()
        .map_err(|_| format!("must be `en` or `ru`, got `{text}`"))
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

fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("must be a number of at least 0, got `{text}`")),
    }
}

/// Minutes within a day (0 to 1440): a longer margin means nothing, and a huge one would
/// not fit a duration.
fn minutes_of_a_day(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..=1440.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "must be a number of minutes from 0 to 1440, got `{text}`"
        )),
    }
}

fn minutes_per_hour(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..=60.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "must be a number of minutes per hour from 0 to 60, got `{text}`"
        )),
    }
}

/// The SLA policy of a command that files claims, from `SLA_HOURS` (the load seeding
/// reads it too, so its claims get the server's deadlines).
#[derive(Debug, Clone, clap::Args)]
pub struct SlaArgs {
    #[arg(long = "sla-hours", env = "SLA_HOURS", value_parser = parse_sla)]
    pub sla_hours: Option<SlaPolicy>,
}

/// Which city `claimroute simulate` lives a day of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulatedCity {
    /// The demo city's depots, couriers and approved claims, with `--extra` more claims.
    Demo,
    /// A generated day as `seed-load` makes it: `--couriers` x `--stops` claims.
    Generated,
}

/// Whether a simulated day runs the `AUTO_REOPTIMIZE` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Reoptimize {
    Off,
    On,
}

/// What `claimroute simulate` reads.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    #[arg(long, value_enum, default_value_t = SimulatedCity::Demo)]
    pub city: SimulatedCity,
    /// The demo city's approved claims beyond its own, filed in its streets.
    #[arg(long, default_value_t = 24)]
    pub extra: usize,
    /// Couriers of a generated city.
    #[arg(long, default_value_t = 300)]
    pub couriers: usize,
    /// Claims per courier of a generated city.
    #[arg(long, default_value_t = 33)]
    pub stops: usize,
    /// The simulated day, `YYYY-MM-DD`; tomorrow (UTC) by default.
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
    /// Seeds the city, the noise, the failures and the new claims: a seed gives one day.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Spread (sigma) of the log-normal travel times around the estimate (mean kept); a
    /// list (`0.1,0.2,0.3`) lives the same planned day once for each.
    #[arg(long, value_delimiter = ',', default_value = "0.2")]
    pub travel_noise: Vec<f64>,
    /// The same for service times; the travel noise by default.
    #[arg(long)]
    pub service_noise: Option<f64>,
    /// Share of visits where nobody is at home.
    #[arg(long, default_value_t = 0.03)]
    pub fail_rate: f64,
    /// Claims approved during the day (08:00-13:00 UTC) for a visit the same day.
    #[arg(long, default_value_t = 30)]
    pub arrivals: usize,
    /// Run the AUTO_REOPTIMIZE code: new visits placed, late visits moved. `--reoptimize`
    /// alone is `on`; `off,on` lives the same planned day both ways.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        num_args = 0..=1,
        default_value = "off",
        default_missing_value = "on"
    )]
    pub reoptimize: Vec<Reoptimize>,
    /// The planner's budget in iterations per thread (fixed, so a seed gives one day).
    #[arg(long, default_value_t = 2_000)]
    pub iterations: u64,
    /// Minutes before its window's end the plan aims to begin each visit (the server's
    /// `PLAN_BUFFER_MINUTES`; 0 plans to the window's end).
    #[arg(long, default_value_t = 15.0, value_parser = minutes_of_a_day)]
    pub plan_buffer_minutes: f64,
    /// Minutes the plan buffer grows by per hour of the day (the server's
    /// `PLAN_BUFFER_PER_HOUR_MINUTES`).
    #[arg(long, default_value_t = 0.0, value_parser = minutes_per_hour)]
    pub plan_buffer_per_hour_minutes: f64,
    /// Virtual seconds between the ETA sweeps (the server's default is 60).
    #[arg(long, default_value_t = 60)]
    pub sweep_seconds: i64,
    /// Virtual seconds between a driving courier's position reports.
    #[arg(long, default_value_t = 120)]
    pub position_seconds: i64,
    /// An empty database to simulate on; a temporary SQLite file (removed after) by default.
    #[arg(long)]
    pub scratch_database: Option<String>,
    /// Where to write the events, one JSON object per line.
    #[arg(long)]
    pub events: Option<std::path::PathBuf>,
    /// Where to write the figures as JSON.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// A markdown file the figures' row is appended to (with the header when it is new).
    #[arg(long)]
    pub table: Option<std::path::PathBuf>,
}

#[derive(Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub sqlite_synchronous: crate::db::Synchronous,
    pub bind_addr: String,
    /// Where `/metrics` is served without a token (`None`: nowhere).
    pub metrics_bind: Option<String>,
    /// The console map's tile server.
    pub map_tiles_url: String,
    pub data_dir: PathBuf,
    pub jwt_secret: Vec<u8>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub max_upload_bytes: u64,
    pub max_image_pixels: u64,
    pub sla: SlaPolicy,
    pub pool_size: u32,
    /// Seed the demo city; `Some(password)` gives the demo logins that password.
    pub demo_password: Option<String>,
    /// The day the demo city's shifts and visits are laid out from (`None`: today, by the
    /// clock). Tests pin it, so that their dates and the seed's agree across midnight.
    pub demo_today: Option<chrono::NaiveDate>,
    /// Add the demo's past months (`--demo-history`).
    pub demo_history: bool,
    pub dispatch: DispatchSettings,
    pub notify: NotifySettings,
    /// How often the SLA sweep runs.
    pub sla_sweep: Duration,
    /// Failed visits a job gets before it stops going back to planning.
    pub max_visit_attempts: i32,
    pub retention: Retention,
}

/// How long data that only grows is kept, and how often it is pruned.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub positions: chrono::Duration,
    /// A replayed request older than this runs again (clients retry within minutes).
    pub idempotency_keys: chrono::Duration,
    pub outbox: chrono::Duration,
    pub every: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            positions: chrono::Duration::days(30),
            idempotency_keys: chrono::Duration::hours(48),
            outbox: chrono::Duration::days(90),
            every: Duration::from_secs(3600),
        }
    }
}

/// How notifications are delivered.
#[derive(Clone)]
pub struct NotifySettings {
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// Without a trailing slash.
    pub public_url: String,
    pub default_locale: Locale,
    pub templates_dir: Option<PathBuf>,
    pub max_attempts: i32,
    /// The first retry's delay; each next one doubles, up to `backoff_max`.
    pub backoff: Duration,
    pub backoff_max: Duration,
    pub webhook_timeout: Duration,
    /// How long a worker holds the deliveries it took before others may take them again
    /// (its process died).
    pub lease: Duration,
    /// Deliveries taken at a time.
    pub batch: i64,
    /// How often the delivery worker looks for work when nobody wakes it.
    pub poll: Duration,
}

/// The SMTP URL can hold a password.
impl fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifySettings")
            .field("smtp_url", &self.smtp_url.as_ref().map(|u| redact_url(u)))
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field("default_locale", &self.default_locale)
            .field("templates_dir", &self.templates_dir)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("backoff_max", &self.backoff_max)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("lease", &self.lease)
            .field("batch", &self.batch)
            .field("poll", &self.poll)
            .finish()
    }
}

/// A URL with its password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

impl NotifySettings {
    pub fn for_bind(bind_addr: &str) -> Self {
        Self {
            smtp_url: None,
            mail_from: "claimroute <no-reply@claimroute.invalid>".to_owned(),
            public_url: format!("http://{bind_addr}"),
            default_locale: Locale::En,
            templates_dir: None,
            max_attempts: 8,
            backoff: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            webhook_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            batch: 20,
            poll: Duration::from_secs(1),
        }
    }
}

/// Settings never print their secrets, so they can be logged whole.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("bind_addr", &self.bind_addr)
            .field("metrics_bind", &self.metrics_bind)
            .field("map_tiles_url", &self.map_tiles_url)
            .field("data_dir", &self.data_dir)
            .field("jwt_secret", &"[redacted]")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("max_image_pixels", &self.max_image_pixels)
            .field("sla", &self.sla)
            .field("pool_size", &self.pool_size)
            .field(
                "demo_password",
                &self.demo_password.as_ref().map(|_| "[redacted]"),
            )
            .field("demo_today", &self.demo_today)
            .field("demo_history", &self.demo_history)
            .field("dispatch", &self.dispatch)
            .field("notify", &self.notify)
            .field("sla_sweep", &self.sla_sweep)
            .field("max_visit_attempts", &self.max_visit_attempts)
            .field("retention", &self.retention)
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
    /// A courier's kilometre and hour, priced for the delivery report.
    pub cost_per_km: f64,
    pub cost_per_hour: f64,
    /// Road travel from an OSRM service (URL, profile) instead of the estimate.
    pub osrm: Option<(String, String)>,
    /// How often the sweep re-times the routes under way.
    pub eta_sweep: Duration,
    /// How long before the end of its window a visit counts as late.
    pub delay_margin: Duration,
    /// How long before the end of its window a new plan aims to begin a visit.
    pub plan_buffer: Duration,
    /// How much the plan buffer grows per hour of the day since the first shift starts.
    pub plan_buffer_per_hour: Duration,
    /// Whether new visits go into the published day by themselves, and how often they are
    /// looked for.
    pub auto_reoptimize: Option<Duration>,
    /// A fixed search budget (iterations per thread) instead of the plan's time limit, so
    /// a run gives the same routes every time: the day simulator's.
    pub iterations: Option<u64>,
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
            cost_per_km: 0.35,
            cost_per_hour: 22.0,
            osrm: None,
            eta_sweep: Duration::from_secs(60),
            delay_margin: Duration::ZERO,
            plan_buffer: Duration::from_secs(15 * 60),
            plan_buffer_per_hour: Duration::ZERO,
            auto_reoptimize: None,
            iterations: None,
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
            sqlite_synchronous: crate::db::Synchronous::default(),
            bind_addr: DEFAULT_BIND.to_owned(),
            metrics_bind: None,
            map_tiles_url: DEFAULT_TILES.to_owned(),
            data_dir,
            jwt_secret,
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            max_upload_bytes: 10 * 1024 * 1024,
            max_image_pixels: 40_000_000,
            sla: SlaPolicy::default(),
            pool_size: 8,
            demo_password: None,
            demo_today: None,
            demo_history: false,
            dispatch: DispatchSettings::default(),
            notify: NotifySettings::for_bind(DEFAULT_BIND),
            sla_sweep: Duration::from_secs(60),
            max_visit_attempts: domain::report::DEFAULT_MAX_VISIT_ATTEMPTS,
            retention: Retention::default(),
        }
    }

    /// The settings of `claimroute serve`.
    pub fn from_args(common: &CommonArgs, server: ServerArgs) -> anyhow::Result<Self> {
        let secret = load_or_create_secret(server.jwt_secret, &common.data_dir)?;
        let mut settings = Self::new(common.database_url()?, common.data_dir.clone(), secret);
        settings.sqlite_synchronous = common.sqlite_synchronous;
        settings.bind_addr = server.bind;
        settings.metrics_bind = server.metrics_bind.filter(|a| !a.is_empty());
        settings.map_tiles_url = server.map_tiles_url;
        settings.sla = server.sla_hours.unwrap_or_default();
        settings.max_upload_bytes = server.max_upload_bytes;
        settings.max_image_pixels = server.max_image_pixels;
        settings.dispatch.speed_kmh = server.travel_speed_kmh;
        settings.dispatch.detour = server.travel_detour;
        settings.dispatch.osrm = server
            .osrm_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .map(|url| (url, server.osrm_profile.clone()));
        settings.dispatch.cost_per_km = server.courier_cost_per_km;
        settings.dispatch.cost_per_hour = server.courier_cost_per_hour;
        settings.dispatch.default_time_limit = Duration::from_millis(server.plan_time_limit_ms);
        settings.max_visit_attempts = server.max_visit_attempts.max(1);
        settings.sla_sweep = Duration::from_secs_f64(server.sla_sweep_seconds);
        settings.dispatch.eta_sweep = Duration::from_secs_f64(server.eta_sweep_seconds);
        settings.dispatch.delay_margin =
            Duration::from_secs_f64(server.delay_margin_minutes * 60.0);
        settings.dispatch.plan_buffer = Duration::from_secs_f64(server.plan_buffer_minutes * 60.0);
        settings.dispatch.plan_buffer_per_hour =
            Duration::from_secs_f64(server.plan_buffer_per_hour_minutes * 60.0);
        settings.dispatch.auto_reoptimize = server
            .auto_reoptimize
            .then_some(crate::workers::auto::EVERY);
        settings.retention = Retention {
            positions: chrono::Duration::days(server.positions_retention_days.into()),
            outbox: chrono::Duration::days(server.outbox_retention_days.into()),
            every: Duration::from_secs_f64(server.retention_sweep_seconds),
            ..Retention::default()
        };
        let n = server.notify;
        settings.notify = NotifySettings {
            smtp_url: n.smtp_url.filter(|u| !u.is_empty()),
            mail_from: n.mail_from,
            public_url: n
                .public_url
                .unwrap_or_else(|| format!("http://{}", settings.bind_addr))
                .trim_end_matches('/')
                .to_owned(),
            default_locale: n.default_locale,
            templates_dir: n.templates_dir,
            max_attempts: n.delivery_max_attempts.max(1),
            backoff: Duration::from_secs_f64(n.delivery_backoff_seconds),
            webhook_timeout: Duration::from_secs_f64(n.webhook_timeout_seconds),
            lease: Duration::from_secs_f64(n.delivery_lease_seconds),
            ..NotifySettings::for_bind(&settings.bind_addr)
        };
        settings.demo_history = server.demo_history;
        if server.demo {
            settings.demo_password = Some(
                server
                    .demo_password
                    .unwrap_or_else(|| hex::encode(rand::random::<[u8; 8]>())),
            );
        }
        Ok(settings)
    }

    pub fn upload_limits(&self) -> crate::storage::UploadLimits {
        crate::storage::UploadLimits {
            file_bytes: self.max_upload_bytes,
            image_pixels: self.max_image_pixels,
        }
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

    /// `serve`'s settings from its command line.
    fn server_args(args: &[&str]) -> Result<ServerArgs, clap::Error> {
        #[derive(clap::Parser)]
        struct Args {
            #[command(flatten)]
            server: ServerArgs,
        }
        <Args as clap::Parser>::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map(|a| a.server)
    }

    #[test]
    fn auto_reoptimize_reads_like_a_switch() {
        let parse = |args: &[&str]| server_args(args).map(|s| s.auto_reoptimize);
        assert!(!parse(&[]).unwrap());
        assert!(parse(&["--auto-reoptimize"]).unwrap());
        assert!(parse(&["--auto-reoptimize", "1"]).unwrap());
        assert!(!parse(&["--auto-reoptimize=false"]).unwrap());
        assert!(parse(&["--auto-reoptimize", "maybe"]).is_err());
    }

    #[test]
    fn the_plan_buffer_is_minutes_of_a_day() {
        let parse = |args: &[&str]| server_args(args).map(|s| s.plan_buffer_minutes);
        assert_eq!(parse(&[]).unwrap(), 15.0);
        assert_eq!(parse(&["--plan-buffer-minutes", "0"]).unwrap(), 0.0);
        assert_eq!(parse(&["--plan-buffer-minutes", "1440"]).unwrap(), 1440.0);
        // Negative, past a day (a duration could not hold 1e300) or not a number.
        for wrong in ["-1", "1441", "1e300", "NaN", "soon"] {
            assert!(parse(&["--plan-buffer-minutes", wrong]).is_err(), "{wrong}");
        }
    }

    #[test]
    fn the_plan_buffer_grows_by_minutes_per_hour() {
        let parse = |args: &[&str]| server_args(args).map(|s| s.plan_buffer_per_hour_minutes);
        assert_eq!(parse(&[]).unwrap(), 0.0);
        assert_eq!(
            parse(&["--plan-buffer-per-hour-minutes", "3"]).unwrap(),
            3.0
        );
        for wrong in ["-1", "61", "NaN", "often"] {
            assert!(
                parse(&["--plan-buffer-per-hour-minutes", wrong]).is_err(),
                "{wrong}"
            );
        }
    }
}
