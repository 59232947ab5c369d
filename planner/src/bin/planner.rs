//! `planner solve FILE ...` prints one JSON object; `planner generate ...` writes a city day.

use clap::{Parser, Subcommand, ValueEnum};
use planner::io::{json, solomon, ReadError};
use planner::{Objective, Problem, SolveOptions};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "planner", version, about = "Vehicle routing solver")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    Solomon,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Obj {
    Hierarchical,
    Distance,
}

#[derive(Subcommand)]
enum Cmd {
    /// Solve a problem file and print the result as one JSON object.
    Solve {
        file: std::path::PathBuf,
        /// Default: json if the file starts with `{`, else solomon.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Default: hierarchical for Solomon files, distance (cost) for JSON.
        #[arg(long, value_enum)]
        objective: Option<Obj>,
        /// Wall-clock bound for the whole run, reading the file included.
        #[arg(long)]
        time_limit: Option<f64>,
        /// Iterations per thread (deterministic with --seed and --threads).
        #[arg(long)]
        iterations: Option<u64>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 0 = one per core.
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Write a realistic city day in the JSON format to standard output.
    Generate {
        #[arg(long)]
        jobs: usize,
        #[arg(long)]
        couriers: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let t0 = Instant::now();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Generate {
            jobs,
            couriers,
            seed,
        } => {
            let p = planner::generate::city_day(jobs, couriers, seed);
            println!("{}", json::write(&p));
            ExitCode::SUCCESS
        }
        Cmd::Solve {
            file,
            format,
            objective,
            time_limit,
            iterations,
            seed,
            threads,
        } => {
            let text = match std::fs::read(&file) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            };
            let format = format.unwrap_or(if text.trim_start().starts_with('{') {
                Format::Json
            } else {
                Format::Solomon
            });
            let parsed: Result<Problem, ReadError> = match format {
                Format::Solomon => solomon::parse(&text),
                Format::Json => json::parse(&text),
            };
            let problem = match parsed {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            };
            let objective = match objective {
                Some(Obj::Hierarchical) => Objective::Hierarchical,
                Some(Obj::Distance) => Objective::Distance,
                None if format == Format::Solomon => Objective::Hierarchical,
                None => Objective::Distance,
            };
            // Keep a margin for writing the answer.
            let time_limit = time_limit.and_then(|s| {
                let left = s - t0.elapsed().as_secs_f64() - (0.02 + 0.01 * s).min(0.5);
                Duration::try_from_secs_f64(left.max(0.0)).ok()
            });
            let progress = if std::io::stderr().is_terminal() {
                let bar = indicatif::ProgressBar::new(1000);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                let cb: planner::ProgressFn = Arc::new(move |p: &planner::Progress| {
                    bar.set_position((p.fraction * 1000.0) as u64);
                    bar.set_message(format!(
                        "cost {:.2}, {} vehicles, {} unassigned",
                        p.cost, p.vehicles, p.unassigned
                    ));
                    if p.fraction >= 1.0 - 1e-9 {
                        bar.finish_and_clear();
                    }
                });
                Some(cb)
            } else {
                None
            };
            let opts = SolveOptions {
                objective,
                iterations,
                time_limit,
                seed,
                threads,
                progress,
            };
            let sol = match planner::solve(&problem, &opts) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            };
            let id = |j: usize| -> Value {
                let s = &problem.jobs[j].id;
                match (format, s.parse::<u64>()) {
                    (Format::Solomon, Ok(n)) => json!(n),
                    _ => json!(s),
                }
            };
            let routes: Vec<Value> = sol
                .routes
                .iter()
                .map(|r| Value::Array(r.stops.iter().filter_map(|s| s.job).map(id).collect()))
                .collect();
            let unassigned: Vec<Value> = sol
                .unassigned
                .iter()
                .map(|u| json!({"id": id(u.job), "reason": u.reason}))
                .collect();
            let out = json!({
                "routes": routes,
                "vehicles": sol.vehicles,
                "distance": sol.distance,
                "duration": sol.duration,
                "cost": sol.cost,
                "unassigned": unassigned,
                "iterations": sol.iterations,
                "wall_s": t0.elapsed().as_secs_f64(),
            });
            println!("{out}");
            ExitCode::SUCCESS
        }
    }
}
