//! `planner solve FILE ...` prints one JSON object; `planner check PROBLEM SOLUTION` checks
//! such an object; `planner generate ...` writes a city day; `planner serve` answers VROOM's
//! format over HTTP.

mod serve;

use clap::{Parser, Subcommand, ValueEnum};
use planner::io::{json, lilim, solomon, solution, vroom, ReadError};
use planner::{Objective, Problem, SolveOptions};
use serde_json::Value;
use std::io::IsTerminal;
use std::path::Path;
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
    /// Li & Lim pickup-and-delivery (PDPTW) files.
    Lilim,
    Json,
    /// VROOM's JSON input; `solve` then answers in VROOM's output format.
    Vroom,
}

/// Spelt as in the API (`fewest_couriers`, `earliest_finish`); dashes are accepted too.
#[derive(Clone, Copy, ValueEnum)]
enum Obj {
    Hierarchical,
    #[value(name = "fewest_couriers", alias = "fewest-couriers")]
    FewestCouriers,
    Distance,
    Cost,
    Balanced,
    #[value(name = "earliest_finish", alias = "earliest-finish")]
    EarliestFinish,
}

impl From<Obj> for Objective {
    fn from(o: Obj) -> Self {
        match o {
            Obj::Hierarchical => Objective::Hierarchical,
            Obj::FewestCouriers => Objective::FewestCouriers,
            Obj::Distance => Objective::Distance,
            Obj::Cost => Objective::Cost,
            Obj::Balanced => Objective::Balanced,
            Obj::EarliestFinish => Objective::EarliestFinish,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Solve a problem file and print the result as one JSON object.
    Solve {
        file: std::path::PathBuf,
        /// Default: json if the file starts with `{`, lilim if its first line is three numbers,
        /// else solomon.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Default: hierarchical for Solomon and Li & Lim files, distance for JSON.
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
        /// OSRM service for VROOM problems given by coordinates (else straight lines).
        #[arg(long)]
        osrm: Option<String>,
    },
    /// Answer VROOM problems over HTTP like vroom-express: `POST /` with the problem.
    Serve {
        /// Address to listen on (`127.0.0.1:0` picks a free port; the line `listening on
        /// ADDR` tells which).
        #[arg(long, default_value = "127.0.0.1:3000")]
        bind: String,
        /// Search time per problem, seconds.
        #[arg(long, default_value_t = 5.0)]
        time_limit: f64,
        /// 0 = one per core.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// OSRM service for problems given by coordinates (else straight lines).
        #[arg(long)]
        osrm: Option<String>,
        /// Largest problem accepted, bytes.
        #[arg(long, default_value_t = 50_000_000)]
        max_body: usize,
        /// Problems solved at once; further requests wait their turn.
        #[arg(long, default_value_t = 2)]
        concurrent: usize,
    },
    /// Check a solution printed by `solve` against its problem: print each violation and
    /// exit 1, or a one-line summary and exit 0. Unreadable files exit 2.
    Check {
        problem: std::path::PathBuf,
        solution: std::path::PathBuf,
        /// Of the problem. Default: json if the file starts with `{`, lilim if its first line
        /// is three numbers, else solomon.
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Write a realistic city day in the JSON format to standard output, or with
    /// `--solomon-like CLASS` a Solomon-style VRPTW instance in Solomon's text format.
    Generate {
        #[arg(long, required_unless_present = "solomon_like")]
        jobs: Option<usize>,
        #[arg(long, required_unless_present = "solomon_like")]
        couriers: Option<usize>,
        /// C1, C2, R1, R2, RC1 or RC2: customers clustered, random or both; short horizon
        /// and small vehicles (1) or long and large (2).
        #[arg(long, conflicts_with_all = ["jobs", "couriers"])]
        solomon_like: Option<planner::generate::SolomonClass>,
        /// Customers of a `--solomon-like` instance.
        #[arg(long, default_value_t = 1000, requires = "solomon_like")]
        customers: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn read_text(file: &Path) -> Result<String, ExitCode> {
    match std::fs::read(file) {
        Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            Err(ExitCode::from(2))
        }
    }
}

/// The problem in `file` and its format (auto-detected unless given).
fn read_problem(file: &Path, format: Option<Format>) -> Result<(Problem, Format), ExitCode> {
    let text = read_text(file)?;
    let format = format.unwrap_or(if text.trim_start().starts_with('{') {
        Format::Json
    } else if lilim::detect(&text) {
        Format::Lilim
    } else {
        Format::Solomon
    });
    let parsed: Result<Problem, ReadError> = match format {
        Format::Solomon => solomon::parse(&text),
        Format::Lilim => lilim::parse(&text),
        Format::Vroom => vroom::parse(&text, None).map(|vp| vp.problem),
        Format::Json => json::parse(&text),
    };
    match parsed {
        Ok(p) => Ok((p, format)),
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            Err(ExitCode::from(2))
        }
    }
}

/// `planner check`: exit 0 when feasible with every stated figure right, 1 when not, 2 for
/// unreadable files.
fn check(problem: &Path, sol: &Path, format: Option<Format>) -> Result<ExitCode, ExitCode> {
    let (p, _) = read_problem(problem, format)?;
    let text = read_text(sol)?;
    let read = solution::parse(&p, &text).map_err(|e| {
        eprintln!("error: {}: {e}", sol.display());
        ExitCode::from(2)
    })?;
    if read.retimed {
        eprintln!(
            "note: {}: no schedule: route i is taken to be on vehicle i, re-timed",
            sol.display()
        );
    }
    // What could not be built (unknown ids...) would only confuse the checker's account.
    if !read.violations.is_empty() {
        for v in &read.violations {
            println!("{v}");
        }
        return Ok(ExitCode::from(1));
    }
    match planner::check(&p, &read.solution) {
        Ok(r) => {
            let unstated = if read.unstated.is_empty() {
                String::new()
            } else {
                format!(" (not stated: {})", read.unstated.join(", "))
            };
            println!(
                "feasible: {} vehicles, distance {:.3}, duration {:.3}, cost {:.3}, {} unassigned{unstated}",
                r.vehicles, r.distance, r.duration, r.cost, r.unassigned
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(vs) => {
            for v in &vs {
                println!("{v}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// `planner solve --format vroom`: VROOM's answer on standard output, errors included
/// (`{"code": 2, "error": ...}`, exit code 2; 3 when the road service fails), as the `vroom`
/// command answers.
#[allow(clippy::too_many_arguments)]
fn solve_vroom(
    file: &Path,
    objective: Option<Obj>,
    time_limit: Option<f64>,
    iterations: Option<u64>,
    seed: u64,
    threads: usize,
    osrm: Option<&str>,
    t0: Instant,
) -> ExitCode {
    // The exit code is VROOM's status code (2: the problem, 3: the road service).
    let fail = |code: u8, message: String| {
        println!("{}", vroom::error(code, &message));
        ExitCode::from(code)
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return fail(vroom::INPUT_ERROR, format!("{}: {e}", file.display())),
    };
    let mut vp = match vroom::parse(&text, osrm) {
        Ok(vp) => vp,
        Err(e) => return fail(vroom::INPUT_ERROR, e.to_string()),
    };
    if let Err(e) = vp.fetch_roads() {
        return fail(vroom::ROUTING_ERROR, e.to_string());
    }
    let loaded = t0.elapsed();
    let opts = SolveOptions {
        objective: objective.map_or(vp.objective, Into::into),
        iterations,
        time_limit: time_limit.and_then(|s| Duration::try_from_secs_f64(s).ok()),
        seed,
        threads,
        progress: None,
    };
    match planner::solve(&vp.problem, &opts) {
        Ok(sol) => {
            let solving = t0.elapsed() - loaded;
            let out = vroom::to_json(&vp, &sol, (loaded.as_millis(), solving.as_millis()));
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e @ planner::PlanError::Travel(_)) => fail(vroom::ROUTING_ERROR, e.to_string()),
        Err(e) => fail(vroom::INPUT_ERROR, e.to_string()),
    }
}

fn main() -> ExitCode {
    let t0 = Instant::now();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Generate {
            jobs,
            couriers,
            solomon_like,
            customers,
            seed,
        } => {
            match (solomon_like, jobs, couriers) {
                (Some(class), _, _) => print!(
                    "{}",
                    planner::generate::solomon_like(class, customers, seed)
                ),
                (None, Some(jobs), Some(couriers)) => {
                    println!(
                        "{}",
                        json::write(&planner::generate::city_day(jobs, couriers, seed))
                    );
                }
                // clap requires both without a class.
                (None, _, _) => return ExitCode::from(2),
            }
            ExitCode::SUCCESS
        }
        Cmd::Check {
            problem,
            solution,
            format,
        } => check(&problem, &solution, format).unwrap_or_else(|code| code),
        Cmd::Serve {
            bind,
            time_limit,
            threads,
            osrm,
            max_body,
            concurrent,
        } => {
            let Ok(time_limit) = Duration::try_from_secs_f64(time_limit) else {
                eprintln!("error: --time-limit must be a non-negative number of seconds");
                return ExitCode::from(2);
            };
            let settings = serve::Settings {
                time_limit,
                threads,
                osrm,
                max_body,
                concurrent,
            };
            match serve::run(&bind, settings) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Solve {
            file,
            format: Some(Format::Vroom),
            objective,
            time_limit,
            iterations,
            seed,
            threads,
            osrm,
        } => solve_vroom(
            &file,
            objective,
            time_limit,
            iterations,
            seed,
            threads,
            osrm.as_deref(),
            t0,
        ),
        Cmd::Solve {
            file,
            format,
            objective,
            time_limit,
            iterations,
            seed,
            threads,
            osrm: _,
        } => {
            let (problem, format) = match read_problem(&file, format) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let objective = match objective {
                Some(o) => o.into(),
                None if format != Format::Json => Objective::Hierarchical,
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
            let mut out = solution::to_json(&problem, &sol, format != Format::Json);
            out["iterations"] = Value::from(sol.iterations);
            out["wall_s"] = Value::from(t0.elapsed().as_secs_f64());
            println!("{out}");
            ExitCode::SUCCESS
        }
    }
}
