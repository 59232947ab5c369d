//! `claimroute`: serve the API, manage users, run migrations, import the sales registry,
//! seed a load-test day, simulate a day. Every flag and environment variable is declared in `config.rs`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use api::app::accounts::{self, NewAccount};
use api::app::registry;
use api::auth::{password, Role};
use api::config::{CommonArgs, ServerArgs, Settings, SimulateArgs, SlaArgs};
use api::db::{self, DatabaseUrl};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "claimroute",
    version,
    about = "Warranty claims that end in a courier at the customer's door"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API (and run the background workers).
    Serve(ServerArgs),
    /// Run only the background workers (plan runs, notifications, the SLA sweep), without
    /// serving HTTP: for a dedicated worker process beside API replicas.
    Worker(ServerArgs),
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
        #[arg(long, env = "LOAD_PASSWORD", hide_env_values = true)]
        password: String,
        /// Seed of the generated positions, slots and remedies.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        sla: SlaArgs,
    },
    /// Live a city day on a virtual clock on a scratch database: plan and publish it, then
    /// couriers drive it with noisy travel and service times, some customers are not at
    /// home and new claims arrive, through the server's own ETA, delay and re-optimisation
    /// code; prints how many visits began inside their promised window, and more.
    Simulate(SimulateArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: String,
        #[arg(long)]
        customer_id: Option<i64>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    api::telemetry::init(&cli.common.log, cli.common.log_format);
    if let Command::Simulate(args) = &cli.command {
        // A scratch database of its own: never the one `--database-url` names.
        return api::simulate::command(args).map(|_| ());
    }
    let database_url = cli.common.database_url()?;
    match cli.command {
        Command::Simulate(_) => Ok(()),
        Command::Serve(server) => serve(Settings::from_args(&cli.common, server)?),
        Command::Worker(server) => work(Settings::from_args(&cli.common, server)?),
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    name,
                    customer_id,
                },
        } => {
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
            let user = db::write_tx(&mut conn, |conn| {
                accounts::add_user(
                    conn,
                    &NewAccount {
                        email: &email,
                        name: &name,
                        role,
                        password_hash: &hash,
                        customer_id: customer_id.map(db::types::CustomerId),
                        locale: None,
                    },
                )
            })
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
            let report = db::write_tx(&mut conn, |conn| registry::import_sales(conn, &bytes))
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
            sla,
        } => {
            let date =
                date.unwrap_or_else(|| chrono::Utc::now().date_naive() + chrono::Duration::days(1));
            let mut conn = migrated(&database_url)?;
            let started = std::time::Instant::now();
            let spec = api::seed::load::LoadSpec {
                couriers,
                stops,
                date,
                password,
                seed,
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            let summary =
                api::seed::load::seed_load(&mut conn, &sla.sla_hours.unwrap_or_default(), &spec)?;
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
                api::seed::load::DISPATCHER,
                api::seed::load::courier_email(1),
                api::seed::load::courier_email(couriers)
            );
            Ok(())
        }
    }
}

fn migrated(url: &DatabaseUrl) -> anyhow::Result<db::PooledConn> {
    let pool = db::connect_pool(url, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    Ok(conn)
}

#[actix_web::main]
async fn work(settings: Settings) -> anyhow::Result<()> {
    api::startup::run_workers(settings).await
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.bind_addr.clone();
    let demo_password = settings.demo_password.clone();
    let app = api::startup::Application::build(settings).await?;
    let host = bind.rsplit_once(':').map_or(bind.as_str(), |(h, _)| h);
    println!("claimroute listening on http://{host}:{}", app.port());
    println!("  console:  http://{host}:{}/app", app.port());
    println!("  API docs: http://{host}:{}/docs", app.port());
    if let Some(password) = demo_password {
        println!("  demo logins (password: {password}):");
        for login in api::seed::demo::logins() {
            println!("    {login}");
        }
    }
    app.run_until_stopped().await?;
    Ok(())
}
