//! `claimroute`: serve the API, manage users, run migrations, import the sales registry,
//! seed a load-test day.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use api::auth::{password, Role};
use api::config::{self, Settings};
use api::db::{self, DatabaseUrl};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "claimroute",
    version,
    about = "Warranty claims that end in a courier at the customer's door"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// `sqlite://PATH` or `postgres://...`; default: a SQLite file in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Where attachments, the SQLite file and the generated JWT secret live.
    #[arg(long, env = "DATA_DIR", default_value = config::DEFAULT_DATA_DIR, global = true)]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API.
    Serve {
        /// Address to listen on (only 127.0.0.1 unless told otherwise).
        #[arg(long, env = "BIND_ADDR", default_value = config::DEFAULT_BIND)]
        bind: String,
        /// Seed the demo city (idempotent) and print its logins.
        #[arg(long)]
        demo: bool,
        /// Password for the demo logins; a random one is generated and printed otherwise.
        #[arg(long, env = "DEMO_PASSWORD")]
        demo_password: Option<String>,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Import sales from a CSV file (header: serial_no,sku,sold_at[,warranty_until,customer_email,customer_name,customer_phone]).
    ImportSales { file: PathBuf },
    /// Seed a large day for the load benchmark (benches/load): couriers with shifts on
    /// DATE, a dispatcher and COURIERS x STOPS approved claims with jobs that day. Refuses a
    /// database that already holds one.
    SeedLoad {
        #[arg(long, default_value_t = 200)]
        couriers: usize,
        /// Jobs per courier.
        #[arg(long, default_value_t = 30)]
        stops: usize,
        /// The day of the jobs and shifts, `YYYY-MM-DD`; tomorrow (UTC) by default.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Password of every load login (`loadcourier1@load.test`..., `loaddispatcher@load.test`).
        #[arg(long, env = "LOAD_PASSWORD")]
        password: String,
        /// Seed of the generated positions, slots and remedies.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        customer_id: Option<i64>,
    },
}

fn positive(text: &str) -> anyhow::Result<f64> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => anyhow::bail!("must be a positive number, got `{text}`"),
    }
}

fn main() -> anyhow::Result<()> {
    api::telemetry::init();
    let cli = Cli::parse();
    let data_dir = cli.common.data_dir.clone();
    let url = cli
        .common
        .database_url
        .clone()
        .unwrap_or_else(|| config::default_database_url(&data_dir));
    let database_url = DatabaseUrl::parse(&url)?;
    match cli.command {
        Command::Serve {
            bind,
            demo,
            demo_password,
        } => {
            let secret =
                config::load_or_create_secret(std::env::var("JWT_SECRET").ok(), &data_dir)?;
            let mut settings = Settings::new(database_url, data_dir, secret);
            settings.bind_addr = bind;
            settings.sla = sla_from_env()?;
            if let Ok(bytes) = std::env::var("MAX_UPLOAD_BYTES") {
                settings.max_upload_bytes = bytes
                    .parse()
                    .context("MAX_UPLOAD_BYTES must be a number of bytes")?;
            }
            if let Ok(kmh) = std::env::var("TRAVEL_SPEED_KMH") {
                settings.dispatch.speed_kmh = positive(&kmh).context("TRAVEL_SPEED_KMH")?;
            }
            if let Ok(detour) = std::env::var("TRAVEL_DETOUR") {
                settings.dispatch.detour = positive(&detour).context("TRAVEL_DETOUR")?;
            }
            if let Ok(ms) = std::env::var("PLAN_TIME_LIMIT_MS") {
                settings.dispatch.default_time_limit = std::time::Duration::from_millis(
                    ms.parse()
                        .context("PLAN_TIME_LIMIT_MS must be a number of milliseconds")?,
                );
            }
            if demo {
                settings.demo_password =
                    Some(demo_password.unwrap_or_else(|| hex::encode(rand::random::<[u8; 8]>())));
            }
            serve(settings)
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    name,
                    customer_id,
                },
        } => {
            let role = Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("role: {}", api::messages::UNKNOWN_ROLE))?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(
                password.chars().count() >= 8,
                "password {}",
                api::messages::PASSWORD_TOO_SHORT
            );
            let hash = password::hash(password)?;
            let mut conn = migrated(&database_url)?;
            let user =
                api::routes::users::add_user(&mut conn, &email, &name, role, &hash, customer_id)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "added user {} ({}) with id {}",
                user.email, user.role, user.id
            );
            Ok(())
        }
        Command::Migrate => {
            let pool = db::connect_pool(&database_url, 1)?;
            let mut conn = pool.get()?;
            let applied = db::run_migrations(&mut conn)?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::ImportSales { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut conn = migrated(&database_url)?;
            let report = db::write_tx(&mut conn, |conn| api::import::import_sales(conn, &bytes))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::SeedLoad {
            couriers,
            stops,
            date,
            password,
            seed,
        } => {
            let date =
                date.unwrap_or_else(|| chrono::Utc::now().date_naive() + chrono::Duration::days(1));
            let mut conn = migrated(&database_url)?;
            let started = std::time::Instant::now();
            let spec = api::loadgen::LoadSpec {
                couriers,
                stops,
                date,
                password,
                seed,
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            let summary = api::loadgen::seed_load(&mut conn, &sla_from_env()?, &spec)?;
            println!(
                "load day {date}: {} depots, {} couriers, {} claims, {} jobs in {:.1} s",
                summary.depots,
                summary.couriers,
                summary.claims,
                summary.jobs,
                started.elapsed().as_secs_f64()
            );
            println!(
                "  logins: {}, {}..{}",
                api::loadgen::DISPATCHER,
                api::loadgen::courier_email(1),
                api::loadgen::courier_email(couriers)
            );
            Ok(())
        }
    }
}

/// The SLA policy, with `SLA_HOURS` overrides.
fn sla_from_env() -> anyhow::Result<domain::sla::SlaPolicy> {
    match std::env::var("SLA_HOURS") {
        Ok(spec) => {
            domain::sla::SlaPolicy::parse(&spec).map_err(|e| anyhow::anyhow!("SLA_HOURS: {e}"))
        }
        Err(_) => Ok(domain::sla::SlaPolicy::default()),
    }
}

fn migrated(url: &DatabaseUrl) -> anyhow::Result<db::PooledConn> {
    let pool = db::connect_pool(url, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    Ok(conn)
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.bind_addr.clone();
    let demo_password = settings.demo_password.clone();
    let app = api::startup::Application::build(settings).await?;
    let host = bind.rsplit_once(':').map_or(bind.as_str(), |(h, _)| h);
    println!("claimroute listening on http://{host}:{}", app.port());
    println!("  API docs: http://{host}:{}/docs", app.port());
    if let Some(password) = demo_password {
        println!("  demo logins (password: {password}):");
        for login in api::demo::logins() {
            println!("    {login}");
        }
    }
    app.run_until_stopped().await?;
    Ok(())
}
