//! The delivery worker killed (`SIGKILL`) in the middle of a batch and started again: every
//! event still reaches the webhook receiver, and a call sent twice carries the same
//! `webhook-id` both times, so a receiver that drops repeated ids sees each event once.
//! This runs the real `claimroute` binary as a process, on SQLite and (when
//! `TEST_POSTGRES_URL` is set) on PostgreSQL. Also: a lease too short for a send is warned
//! about at start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::db::{self, DatabaseUrl};
use common::Server;

mod common;

const EVENTS: usize = 30;
const LEASE: (&str, &str) = ("DELIVERY_LEASE_SECONDS", "2");

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

fn run(database_url: &str) {
    let data_dir = common::temp_dir("claimroute-restart");
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let port = receiver(ids.clone());
    let client = reqwest::blocking::Client::new();

    let mut server = Server::start(&data_dir, database_url, &[LEASE]);
    let admin = server.login(&client, "admin@demo.test");
    let created = client
        .post(server.api("/webhooks"))
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
    server.kill();
    let before_restart = ids.lock().unwrap().len();
    assert!(before_restart < EVENTS, "killed mid-way, not after");

    let mut server = Server::start(&data_dir, database_url, &[LEASE]);
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
    server.kill();

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

#[test]
fn killed_mid_batch_delivers_every_event_with_stable_ids_on_sqlite() {
    common::on_sqlite(run);
}

#[test]
fn killed_mid_batch_delivers_every_event_with_stable_ids_on_postgres() {
    common::on_postgres(run);
}

const LEASE_WARNING: &str = "DELIVERY_LEASE_SECONDS is not above the send timeout";

/// How many times the server, started with `env`, warns at start that its lease is too short.
fn lease_warnings(database_url: &str, env: &[(&str, &str)]) -> usize {
    let data_dir = common::temp_dir("claimroute-lease");
    // Started means the delivery worker was built: the check runs before the address is
    // printed, and the logs are read to the end after the kill.
    let logs = Server::start(&data_dir, database_url, env).logs_until_killed();
    let _ = std::fs::remove_dir_all(&data_dir);
    logs.matches(LEASE_WARNING).count()
}

#[test]
fn a_lease_not_above_the_send_timeout_is_warned_about_at_start() {
    common::on_sqlite(|url| {
        let timeout = ("WEBHOOK_TIMEOUT_SECONDS", "10");
        let lease = |seconds| ("DELIVERY_LEASE_SECONDS", seconds);
        assert_eq!(lease_warnings(url, &[lease("10"), timeout]), 1);
        assert_eq!(lease_warnings(url, &[lease("11"), timeout]), 0);
        // With mail on, a send may take the SMTP timeout (20 s): 11 s is too short again.
        // Nothing listens on port 9: a send would fail, but only the start is read here.
        let smtp = ("SMTP_URL", "smtp://127.0.0.1:9");
        assert_eq!(lease_warnings(url, &[lease("11"), timeout, smtp]), 1);
        assert_eq!(lease_warnings(url, &[lease("21"), timeout, smtp]), 0);
    });
}
