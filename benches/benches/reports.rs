//! The department's reports over a year of 100,000 claims on SQLite: `GET /reports/claims`
//! (grouped by month) and `GET /reports/defects`, computed and serialised to JSON as the
//! handlers do. The data set is the demo city with its history scaled up
//! (`api::seed::history`), made through the application layer once and kept at
//! `target/bench-reports-<claims>.sqlite` for the next run (delete it to seed again).
//!
//! `cargo bench -p benches --bench reports` (REPORT_CLAIMS=... for another size).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use api::app::reports::{self, defects, Range};
use api::auth::extract::AuthUser;
use api::auth::Role;
use api::db::{self, DatabaseUrl};
use api::seed::history::{self, Scale};
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use domain::sla::SlaPolicy;
use domain::stats::Period;

fn data_set(claims: usize) -> (db::Pool, chrono::NaiveDate) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(format!("bench-reports-{claims}.sqlite"));
    let fresh = !path.exists();
    let url = DatabaseUrl::Sqlite(path.clone());
    let pool = db::connect_pool(&url, 2).unwrap();
    let today = Utc::now().date_naive();
    if fresh {
        let started = Instant::now();
        let mut conn = pool.get().unwrap();
        db::run_migrations(&mut conn).unwrap();
        let sla = SlaPolicy::default();
        api::seed::demo::seed(&mut conn, &sla, "bench-password", today).unwrap();
        let made = db::write_tx(&mut conn, |conn| {
            history::seed(conn, &sla, today, Scale::claims(claims))
        })
        .unwrap();
        eprintln!(
            "seeded {made} past claims into {} in {:.0?}",
            path.display(),
            started.elapsed()
        );
    }
    (pool, today)
}

fn bench(c: &mut Criterion) {
    let claims: usize = std::env::var("REPORT_CLAIMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (pool, today) = data_set(claims);
    let mut conn = pool.get().unwrap();
    let head = AuthUser {
        id: db::users::find_by_email(&mut conn, "head@demo.test")
            .unwrap()
            .unwrap()
            .id,
        role: Role::Head,
    };
    let to = (today + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let from = to - chrono::Duration::days(365);
    let range = Range {
        from,
        to,
        group_by: Period::Month,
    };
    let sla = SlaPolicy::default();
    let now = Utc::now().naive_utc();
    let filed = reports::claims(&mut conn, &head, &sla, range, now)
        .unwrap()
        .totals
        .filed;
    eprintln!("the claims report covers {filed} claims filed in the year");

    let mut group = c.benchmark_group(format!("reports over {claims} claims (SQLite)"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("GET /reports/claims, a year by month", |b| {
        b.iter(|| {
            let report = reports::claims(&mut conn, &head, &sla, range, now).unwrap();
            serde_json::to_vec(&report).unwrap()
        })
    });
    group.bench_function("GET /reports/defects, a year", |b| {
        b.iter(|| {
            let report = defects::defects(&mut conn, from, to).unwrap();
            serde_json::to_vec(&report).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
