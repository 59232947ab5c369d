//! `claimroute simulate` run as the real binary (its clock is virtual, so it runs in a
//! process of its own) on a small demo day, on SQLite and on PostgreSQL: the same seed
//! gives the same day, event for event; its figures agree with a count of the events it
//! wrote; and what it says happened is what the database holds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use api::simulate::outcome::{Event, Summary, VisitRecord};
use diesel::{Connection, QueryableByName, RunQueryDsl};

mod common;

/// The small demo day every test here lives (the noise and re-optimisation left to it).
fn small_day() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_claimroute"));
    command
        .args([
            "simulate",
            "--city",
            "demo",
            "--extra",
            "14",
            "--arrivals",
            "4",
        ])
        .args(["--seed", "7", "--fail-rate", "0.1", "--iterations", "300"])
        .args(["--date", "2031-03-04"])
        .env("RUST_LOG", "warn");
    command
}

/// Runs one small day; its figures and its events file's text.
fn simulate(dir: &Path, name: &str, scratch: Option<&str>) -> (Summary, String) {
    let (events, out) = (
        dir.join(format!("{name}.jsonl")),
        dir.join(format!("{name}.json")),
    );
    let mut command = small_day();
    command
        .args(["--travel-noise", "0.3", "--reoptimize"])
        .arg("--events")
        .arg(&events)
        .arg("--out")
        .arg(&out);
    if let Some(url) = scratch {
        command.args(["--scratch-database", url]);
    }
    let run = command.output().unwrap();
    assert!(
        run.status.success(),
        "simulate failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let printed = String::from_utf8_lossy(&run.stdout);
    assert!(
        printed.contains("| demo (+14 claims) | 30 % | on |"),
        "{printed}"
    );
    let summary: Summary = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    (summary, std::fs::read_to_string(&events).unwrap())
}

fn visits(events: &str) -> Vec<VisitRecord> {
    events
        .lines()
        .filter_map(|line| match serde_json::from_str::<Event>(line).unwrap() {
            Event::Visit(v) => Some(v),
            Event::Claim { .. } => None,
        })
        .collect()
}

/// The summary's figures counted again from the events alone.
fn recount(summary: &Summary, events: &str) {
    let visits = visits(events);
    assert_eq!(summary.visits, visits.len());
    let promised: Vec<&VisitRecord> = visits.iter().filter(|v| v.promised.is_some()).collect();
    let inside = promised
        .iter()
        .filter(|v| {
            let (start, end) = v.promised.unwrap();
            v.started >= start && v.started <= end
        })
        .count();
    assert_eq!(summary.promised, promised.len());
    assert_eq!(summary.on_time, inside);
    assert!((summary.on_time_share - inside as f64 / promised.len() as f64).abs() < 1e-9);
    assert_eq!(summary.late, promised.len() - inside);
    let done = visits.iter().filter(|v| v.outcome == "done").count();
    assert_eq!(summary.done, done);
    assert_eq!(summary.failed, visits.len() - done);
    let served = visits
        .iter()
        .filter(|v| v.new_today && v.outcome == "done")
        .count();
    assert_eq!(summary.new_served, served);
    let claims = events
        .lines()
        .filter(|l| {
            matches!(
                serde_json::from_str::<Event>(l).unwrap(),
                Event::Claim { .. }
            )
        })
        .count();
    assert_eq!(summary.new_claims, claims);
    // Each visit began once the courier was at the door, and ended after.
    for v in &visits {
        assert!(v.arrived <= v.started && v.started <= v.ended, "{v:?}");
    }
}

/// The figures a second run must repeat: all but the wall-clock ones.
fn deterministic(s: &Summary) -> Summary {
    let mut s = s.clone();
    s.timing = api::simulate::outcome::Timing {
        wall_seconds: 0.0,
        placements: s.timing.placements,
        placing_ms_mean: 0.0,
        placing_ms_max: 0.0,
    };
    s
}

/// The same city and plan lived at two noise levels, each with and without
/// re-optimisation: the figures of each day, in that order.
fn grid(dir: &Path) -> Vec<Summary> {
    let out = dir.join("grid.json");
    let run = small_day()
        .args(["--travel-noise", "0.3,0.1", "--reoptimize", "off,on"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "simulate failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let printed = String::from_utf8_lossy(&run.stdout);
    assert_eq!(printed.lines().count(), 2 + 4, "{printed}");
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

#[test]
fn a_simulated_day_is_the_same_for_a_seed_and_its_figures_match_its_events_on_sqlite() {
    let dir = common::temp_dir("claimroute-simulate");
    let (first, first_events) = simulate(&dir, "first", None);
    let (second, second_events) = simulate(&dir, "second", None);
    assert_eq!(deterministic(&first), deterministic(&second));
    assert_eq!(first_events, second_events);
    recount(&first, &first_events);

    // A real day: most of it visited, some customers not at home, the new claims went on
    // routes at once and were visited, the phones' reports all taken.
    assert!(first.planned_visits >= 12, "{first:?}");
    assert_eq!(first.visits, first.done + first.failed);
    assert!(first.done > first.failed && first.failed > 0, "{first:?}");
    assert_eq!(first.not_reached, 0, "{first:?}");
    assert_eq!(first.new_claims, 4);
    assert!(first.new_placed >= 1 && first.new_served >= 1, "{first:?}");
    assert_eq!(first.refused_reports, 0, "{first:?}");
    assert!(
        first.position_batches > 0 && first.driven_km > 0.0,
        "{first:?}"
    );

    // Several configurations live copies of one planned day: each is the day its own run
    // would have lived.
    let days = grid(&dir);
    let asked: Vec<(f64, bool)> = days
        .iter()
        .map(|d| (d.travel_noise, d.reoptimize))
        .collect();
    assert_eq!(
        asked,
        [(0.3, false), (0.3, true), (0.1, false), (0.1, true)]
    );
    assert_eq!(deterministic(&days[1]), deterministic(&first));
    for day in &days {
        assert_eq!(day.planned_visits, first.planned_visits, "{day:?}");
        assert_eq!(day.planned_km, first.planned_km, "{day:?}");
        if !day.reoptimize {
            assert_eq!((day.new_placed, day.moved), (0, 0), "{day:?}");
        }
    }
    assert_ne!(deterministic(&days[0]), deterministic(&days[2]));
    let _ = std::fs::remove_dir_all(dir);
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut diesel::PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

#[test]
fn a_simulated_day_on_postgres_is_what_its_database_holds() {
    common::on_postgres(|url| {
        let dir = common::temp_dir("claimroute-simulate-pg");
        let (summary, events) = simulate(&dir, "pg", Some(url));
        recount(&summary, &events);
        let mut conn = diesel::PgConnection::establish(url).unwrap();
        let done = count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM job_events WHERE kind = 'completed' AND applied",
        );
        let failed = count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM job_events WHERE kind = 'failed' AND applied",
        );
        assert_eq!(
            (done as usize, failed as usize),
            (summary.done, summary.failed)
        );
        let delayed = count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM outbox WHERE event = 'visit.delayed'",
        );
        assert_eq!(delayed, summary.delay_notices);
        // The same seed on the other backend lives the same day.
        let (sqlite, _) = simulate(&dir, "sqlite", None);
        assert_eq!(deterministic(&summary), deterministic(&sqlite));
        let _ = std::fs::remove_dir_all(dir);
    });
}

#[test]
fn several_days_refuse_one_events_file_before_seeding_anything() {
    let dir = common::temp_dir("claimroute-simulate-refused");
    let events = dir.join("events.jsonl");
    let run = small_day()
        .args(["--travel-noise", "0.1,0.2"])
        .arg("--events")
        .arg(&events)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(said.contains("--events takes one day's events"), "{said}");
    assert!(!events.exists());
    let _ = std::fs::remove_dir_all(dir);
}
