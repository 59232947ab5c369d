//! The real `claimroute` binary as a process, for tests that kill it or measure it from
//! outside: a fresh data dir, a fresh database on either backend, sign-in.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use diesel::{Connection, RunQueryDsl};

pub const PASSWORD: &str = "process-password-1";

/// A name no other test run picks at the same time.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{:x}", std::process::id(), nanos & 0xffff_ffff)
}

pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `body` with the URL of an empty SQLite database, removed afterwards.
pub fn on_sqlite(body: impl FnOnce(&str)) {
    let dir = temp_dir("claimroute-process-db");
    body(&format!("sqlite://{}", dir.join("claimroute.db").display()));
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `body` with the URL of an empty PostgreSQL database, dropped afterwards; skips
/// without `TEST_POSTGRES_URL` unless `REQUIRE_POSTGRES=1` demands it.
pub fn on_postgres(body: impl FnOnce(&str)) {
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
    let name = unique("claimroute_process");
    let mut admin = diesel::PgConnection::establish(&base).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&url)));
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// `claimroute serve --demo` on a fresh port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Everything the process writes to standard error (its logs), read until it exits.
    stderr: Option<JoinHandle<String>>,
}

impl Server {
    pub fn start(data_dir: &Path, database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_claimroute"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--demo"])
            .env("DATA_DIR", data_dir)
            .env("DATABASE_URL", database_url)
            .env("DEMO_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let base = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_owned();
        // Keep reading so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            base,
            stderr: Some(stderr),
        }
    }

    /// Kills the process and returns all it wrote to standard error.
    pub fn logs_until_killed(mut self) -> String {
        self.kill();
        self.stderr.take().unwrap().join().unwrap()
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// An access token of a demo login.
    pub fn login(&self, client: &reqwest::blocking::Client, email: &str) -> String {
        let body: serde_json::Value = client
            .post(self.api("/auth/login"))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A figure of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Kills the process (`SIGKILL`) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
