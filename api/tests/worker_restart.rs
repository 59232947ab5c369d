//! The delivery worker killed (`SIGKILL`) in the middle of a batch and started again: every
//! event still reaches the webhook receiver, and a call sent twice carries the same
//! `webhook-id` both times, so a receiver that drops repeated ids sees each event once.
//! This runs the real `claimroute` binary as a process, on SQLite and (when
//! `TEST_POSTGRES_URL` is set) on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::db::{self, DatabaseUrl};
use diesel::{Connection, RunQueryDsl};

const EVENTS: usize = 30;
const PASSWORD: &str = "restart-password-1";

/// A webhook receiver that takes its time (so the worker is mid-batch when it dies) and
/// records the `webhook-id` of every call.
fn receiver(ids: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let ids = ids.clone();
            std::thread::spawn(move || serve(stream, &ids));
        }
    });
    port
}

/// Answers every HTTP/1.1 request on one connection.
fn serve(stream: TcpStream, ids: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut length = 0;
        let mut id = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("webhook-id:") {
                id = line["webhook-id:".len()..].trim().to_owned();
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        ids.lock().unwrap().push(id);
        std::thread::sleep(Duration::from_millis(300));
        if writer
            .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

/// `claimroute serve` on a fresh port; returns the process and its base URL.
fn start(data_dir: &std::path::Path, database_url: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimroute"))
        .args(["serve", "--bind", "127.0.0.1:0", "--demo"])
        .env("DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("DEMO_PASSWORD", PASSWORD)
        .env("DELIVERY_LEASE_SECONDS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    // Keep reading so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

fn token(client: &reqwest::blocking::Client, base: &str) -> String {
    let body: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "admin@demo.test", "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

fn run(database_url: &str) {
    let data_dir = std::env::temp_dir().join(format!(
        "claimroute-restart-{}",
        std::process::id() as u64 * 1000 + rand_u16() as u64
    ));
    std::fs::create_dir_all(&data_dir).unwrap();
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let port = receiver(ids.clone());
    let client = reqwest::blocking::Client::new();

    let (mut server, base) = start(&data_dir, database_url);
    let admin = token(&client, &base);
    let created = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"url": format!("http://127.0.0.1:{port}/"), "events": ["plan.published"]}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);

    // A burst of events, as a day of publications would write.
    let pool = db::connect_pool(&DatabaseUrl::parse(database_url).unwrap(), 1).unwrap();
    let mut conn = pool.get().unwrap();
    let mut events = BTreeSet::new();
    for n in 0..EVENTS {
        db::outbox::push(
            &mut conn,
            "plan.published",
            None,
            serde_json::json!({"n": n}),
        )
        .unwrap();
    }
    let outbox: Vec<i64> = db::outbox::all(&mut conn, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "plan.published")
        .map(|e| e.id)
        .collect();
    for id in &outbox {
        events.insert(format!("msg_{id}"));
    }
    drop(conn);

    // Killed while the receiver is busy with the batch.
    let deadline = Instant::now() + Duration::from_secs(60);
    while ids.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "no call reached the receiver");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let before_restart = ids.lock().unwrap().len();
    assert!(before_restart < EVENTS, "killed mid-way, not after");

    let (mut server, _) = start(&data_dir, database_url);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let seen: BTreeSet<String> = ids.lock().unwrap().iter().cloned().collect();
        if events.is_subset(&seen) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {EVENTS} events reached the receiver",
            events.intersection(&seen).count()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    server.kill().unwrap();
    server.wait().unwrap();

    let calls = ids.lock().unwrap().clone();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &calls {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    // Every id is one of the events: a repeated call is the same message, not a new one.
    assert!(
        counts.keys().all(|id| events.contains(*id)),
        "ids that are no event: {counts:?}"
    );
    assert_eq!(counts.len(), EVENTS);
    // Only what was in flight when the process died went out twice.
    let repeated = counts.values().filter(|n| **n > 1).count();
    assert!(
        repeated <= 20,
        "{repeated} events went out twice: {counts:?}"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn rand_u16() -> u16 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u16
}

#[test]
fn killed_mid_batch_delivers_every_event_with_stable_ids_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("claimroute-restart-db-{}", rand_u16()));
    std::fs::create_dir_all(&dir).unwrap();
    run(&format!("sqlite://{}", dir.join("claimroute.db").display()));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn killed_mid_batch_delivers_every_event_with_stable_ids_on_postgres() {
    let Some(base) = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!("claimroute_restart_{}", rand_u16());
    let mut admin = diesel::PgConnection::establish(&base).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    run(&url);
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin);
}
