//! The test harness: spawns the server, seeds the demo city, signs in.

use std::path::PathBuf;

use api::config::Settings;
use api::db::DatabaseUrl;
use diesel::{Connection, RunQueryDsl};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

pub const DEMO_PASSWORD: &str = "demo-password-1";
pub const JWT_SECRET: &[u8] = b"test-secret-test-secret-test-secret!!";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend: `backend_test!(name, |app| async move { ... })`
/// makes `name::sqlite` and `name::postgres`.
///
/// Without `TEST_POSTGRES_URL` at build time the PostgreSQL twin is compiled as ignored
/// (`build.rs`), so a skipped test shows as skipped, never as passed; with
/// `REQUIRE_POSTGRES=1` it runs and fails when no server answers. Each twin that ran its
/// body to the end leaves a marker (see [`mark_ran`]), which `.ci/run` counts.
#[macro_export]
macro_rules! backend_test {
    // The body spawns the server itself (to set it up first): it gets the backend.
    ($name:ident, backend $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                $crate::helpers::run_test($crate::helpers::Backend::Sqlite, module_path!(), $body);
            }

            #[test]
            #[cfg_attr(
                not(postgres),
                ignore = "PostgreSQL twin: set TEST_POSTGRES_URL when building the tests"
            )]
            fn postgres() {
                $crate::helpers::run_test(
                    $crate::helpers::Backend::Postgres,
                    module_path!(),
                    $body,
                );
            }
        }
    };
    ($name:ident, $body:expr) => {
        $crate::backend_test!(
            $name,
            backend
                | backend
                | async move {
                    let app = $crate::helpers::TestApp::start(backend, |_| {}).await;
                    ($body)(app).await;
                }
        );
    };
}

/// Runs one backend's twin on its own runtime. The runtime is shut down (the servers and
/// their workers stop, their blocking calls end) before the test's PostgreSQL databases
/// are dropped: a worker still polling would otherwise wait out its pool's timeout on a
/// database that is gone. Leaves the run marker when the body finished.
pub fn run_test<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(Backend) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    RUNS_UNDER_RUN_TEST.with(|flag| flag.set(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(body(backend))
    }));
    drop(runtime);
    RUNS_UNDER_RUN_TEST.with(|flag| flag.set(false));
    for (admin, name) in DATABASES_TO_DROP.with(|list| std::mem::take(&mut *list.borrow_mut())) {
        drop_postgres_database(&admin, &name);
    }
    match outcome {
        Ok(()) => mark_ran(backend, test),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

thread_local! {
    /// Whether this thread runs a `run_test` body (its databases wait for its runtime).
    static RUNS_UNDER_RUN_TEST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The PostgreSQL databases of this thread's test, dropped once its runtime is down.
    static DATABASES_TO_DROP: std::cell::RefCell<Vec<(String, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Records that a test ran to its end on `backend`: an empty file named after the test in
/// `$BACKEND_RUN_MARKERS/<backend>/`, when that variable is set (`.ci/run` sets it and
/// fails unless every black-box test left one for each backend).
pub fn mark_ran(backend: Backend, test: &str) {
    let Some(dir) = std::env::var_os("BACKEND_RUN_MARKERS") else {
        return;
    };
    let dir = PathBuf::from(dir).join(match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    });
    std::fs::create_dir_all(&dir).unwrap();
    // `api::courier::reports_drive_the_claim` -> `courier::reports_drive_the_claim`.
    let name = test.split_once("::").map_or(test, |(_, rest)| rest);
    std::fs::write(dir.join(name), b"").unwrap();
}

/// The day the tests and the demo seed agree on as today: fixed when the test binary
/// first asks, so dates computed by a test and by the seed agree across midnight.
pub fn test_day() -> chrono::NaiveDate {
    static DAY: std::sync::OnceLock<chrono::NaiveDate> = std::sync::OnceLock::new();
    *DAY.get_or_init(|| chrono::Utc::now().date_naive())
}

pub struct TestApp {
    pub base: String,
    /// The token-free metrics server (`METRICS_BIND`), when the test asked for one.
    pub metrics_base: Option<String>,
    pub client: Client,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    /// How this server process names itself as a plan runner.
    pub instance: String,
    pg_database: Option<(String, String)>,
}

/// The PostgreSQL server URL for tests, or `None` (the test is skipped) unless
/// `REQUIRE_POSTGRES=1` demands it.
pub fn postgres_base_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => Some(url),
        None if std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        }
        None => {
            eprintln!("skipping PostgreSQL test: TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// Creates an empty PostgreSQL database and returns (its URL, the admin URL, its name).
pub fn fresh_postgres_database() -> Option<(String, String, String)> {
    let base = postgres_base_url()?;
    let name = format!("claimroute_test_{:016x}", rand_u64());
    let mut admin = diesel::PgConnection::establish(&base)
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {base}: {e}"));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("TEST_POSTGRES_URL must end with /DATABASE"),
    };
    Some((url, base, name))
}

pub fn drop_postgres_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}

pub fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("claimroute-test-{:016x}", rand_u64()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl TestApp {
    /// `None` when the backend is PostgreSQL and no server is configured (test skipped).
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<Self> {
        let data_dir = temp_dir();
        let (url, pg_database) = match backend {
            Backend::Sqlite => (DatabaseUrl::Sqlite(data_dir.join("claimroute.db")), None),
            Backend::Postgres => {
                let (url, admin, name) = fresh_postgres_database()?;
                (DatabaseUrl::Postgres(url), Some((admin, name)))
            }
        };
        let mut settings = Settings::new(url.clone(), data_dir.clone(), JWT_SECRET.to_vec());
        settings.bind_addr = "127.0.0.1:0".to_owned();
        settings.pool_size = 6;
        settings.demo_password = Some(DEMO_PASSWORD.to_owned());
        settings.demo_today = Some(test_day());
        // Notifications are delivered promptly in tests.
        settings.notify.poll = std::time::Duration::from_millis(100);
        settings.notify.backoff = std::time::Duration::from_millis(200);
        adjust(&mut settings);
        let instance = settings.dispatch.instance.clone();
        let app = api::startup::Application::build(settings).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let metrics_base = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
        tokio::spawn(app.run_until_stopped());
        Some(Self {
            base,
            metrics_base,
            client: Client::new(),
            data_dir,
            database_url: url,
            instance,
            pg_database,
        })
    }

    /// Spawns the server on `backend` with settings adjusted; panics when PostgreSQL is
    /// asked for but not configured (the macro marks such tests ignored).
    pub async fn start(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_with(backend, adjust)
            .await
            .expect("PostgreSQL is configured but the test could not use it")
    }

    /// A second server process on the same database (another replica).
    pub async fn spawn_replica(&self) -> Self {
        self.spawn_replica_with(|_| {}).await
    }

    /// [`Self::spawn_replica`] with settings adjusted.
    pub async fn spawn_replica_with(&self, adjust: impl FnOnce(&mut Settings)) -> Self {
        let data_dir = temp_dir();
        let mut settings = Settings::new(
            self.database_url.clone(),
            data_dir.clone(),
            JWT_SECRET.to_vec(),
        );
        settings.bind_addr = "127.0.0.1:0".to_owned();
        settings.pool_size = 6;
        settings.notify.poll = std::time::Duration::from_millis(100);
        settings.notify.backoff = std::time::Duration::from_millis(200);
        adjust(&mut settings);
        let instance = settings.dispatch.instance.clone();
        let app = api::startup::Application::build(settings).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let metrics_base = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
        tokio::spawn(app.run_until_stopped());
        Self {
            base,
            metrics_base,
            client: Client::new(),
            data_dir,
            database_url: self.database_url.clone(),
            instance,
            // The first process owns (and drops) the database.
            pg_database: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/healthz")
            || path.starts_with("/readyz")
            || path.starts_with("/metrics")
            || path.starts_with("/api-docs")
            || path.starts_with("/docs")
        {
            format!("{}{path}", self.base)
        } else {
            format!("{}/api/v1{path}", self.base)
        }
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(t) => builder.bearer_auth(t),
            None => builder,
        }
    }

    pub async fn login_full(&self, email: &str, password: &str) -> Response {
        self.request(Method::POST, "/auth/login", None)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Signs in a demo login and returns its access token.
    pub async fn login(&self, email: &str) -> String {
        let response = self.login_full(email, DEMO_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {email}");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        read(
            self.request(Method::GET, path, Some(token))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        read(
            self.request(Method::POST, path, Some(token))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        read(
            self.request(Method::PUT, path, Some(token))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        read(
            self.request(Method::PATCH, path, Some(token))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The id of a demo user, looked up by the admin.
    pub async fn user_id(&self, email: &str) -> i64 {
        let admin = self.login("admin@demo.test").await;
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/users?limit=200&cursor={c}"),
                None => "/users?limit=200".to_owned(),
            };
            let (status, body) = self.get(&path, &admin).await;
            assert_eq!(status, StatusCode::OK);
            if let Some(user) = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["email"] == email)
            {
                return user["id"].as_i64().unwrap();
            }
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => panic!("no user {email}"),
            }
        }
    }

    /// The open claims assigned to `manager`, as a head (`token`) lists them.
    pub async fn open_claims_of(&self, manager: i64, token: &str) -> Vec<Value> {
        let (status, page) = self
            .get(&format!("/claims?assignee={manager}&limit=200"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                !matches!(
                    c["status"].as_str(),
                    Some("closed" | "rejected" | "withdrawn")
                )
            })
            .cloned()
            .collect()
    }

    /// Subscribes `url` to `events` as the admin (`token`); the new webhook.
    pub async fn subscribe_webhook(&self, token: &str, url: &str, events: &[&str]) -> Value {
        let (status, hook) = self
            .post("/webhooks", token, &json!({"url": url, "events": events}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        hook
    }

    /// Files a claim as `token` for a demo serial, with a window tomorrow.
    pub async fn file_claim(&self, token: &str, serial: &str) -> Value {
        let (status, body) = self.post("/claims", token, &claim_body(serial)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(database) = self.pg_database.take() {
            // Dropped by `run_test` after the server stops, when this is its thread; a
            // test of its own (not `backend_test!`) drops it here.
            let deferred = RUNS_UNDER_RUN_TEST.with(|flag| flag.get());
            if deferred {
                DATABASES_TO_DROP.with(|list| list.borrow_mut().push(database));
            } else {
                drop_postgres_database(&database.0, &database.1);
            }
        }
    }
}

pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A valid claim body for `serial` with one window tomorrow 10:00-12:00 UTC.
pub fn claim_body(serial: &str) -> Value {
    let tomorrow = test_day() + chrono::Duration::days(1);
    json!({
        "serial_no": serial,
        "defect_category": "does_not_start",
        "description": "The drum does not turn.",
        "requested_remedy": "replacement",
        "address": "Invalidenstrasse 50, Berlin",
        "lat": 52.5300,
        "lon": 13.3800,
        "preferred_windows": [{
            "start": format!("{tomorrow}T10:00:00Z"),
            "end": format!("{tomorrow}T12:00:00Z"),
        }],
    })
}

/// The smallest valid PNG (1x1).
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

pub async fn upload(
    app: &TestApp,
    token: &str,
    claim_id: i64,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("application/octet-stream")
        .unwrap();
    // File names go raw, in UTF-8, as browsers send them.
    let form = reqwest::multipart::Form::new()
        .percent_encode_noop()
        .part("file", part);
    read(
        app.request(
            Method::POST,
            &format!("/claims/{claim_id}/attachments"),
            Some(token),
        )
        .multipart(form)
        .send()
        .await
        .unwrap(),
    )
    .await
}

/// A depot of a test's own (`depot` is the `POST /depots` body) and a courier account
/// `email` based there with room for `capacity`; returns the depot and the courier record.
pub async fn own_depot_and_courier(
    app: &TestApp,
    depot: &Value,
    email: &str,
    capacity: i64,
) -> (Value, Value) {
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (status, depot) = app.post("/depots", &dispatcher, depot).await;
    assert_eq!(status, StatusCode::CREATED, "{depot}");
    let courier = new_courier(app, &depot, email, capacity).await;
    (depot, courier)
}

/// A courier account `email` based at `depot` with room for `capacity`: his record.
pub async fn new_courier(app: &TestApp, depot: &Value, email: &str, capacity: i64) -> Value {
    new_courier_with_skills(app, depot, email, capacity, &[]).await
}

/// A courier as `new_courier` makes one, with these skills.
pub async fn new_courier_with_skills(
    app: &TestApp,
    depot: &Value,
    email: &str,
    capacity: i64,
    skills: &[&str],
) -> Value {
    let admin = app.login("admin@demo.test").await;
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (status, user) = app
        .post(
            "/users",
            &admin,
            &json!({"email": email, "name": "Test Courier", "role": "courier",
                    "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (status, courier) = app
        .post(
            "/couriers",
            &dispatcher,
            &json!({"user_id": user["id"], "capacity": capacity, "home_depot_id": depot["id"],
                    "skills": skills}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{courier}");
    courier
}

/// Puts a courier (his record) on shift from `start` to `end`, from and back to `depot`.
pub async fn put_shift(
    app: &TestApp,
    courier: &Value,
    depot: &Value,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) {
    put_shift_on(app, courier, depot, start.date_naive(), start, end).await;
}

/// The shift of `date` from `start` to `end`: a day in a time zone east of UTC begins on
/// the UTC day before.
pub async fn put_shift_on(
    app: &TestApp,
    courier: &Value,
    depot: &Value,
    date: chrono::NaiveDate,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) {
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (status, shift) = app
        .put(
            &format!("/couriers/{}/shifts/{date}", courier["id"]),
            &dispatcher,
            &json!({"start": start, "end": end,
                    "start_depot_id": depot["id"], "end_depot_id": depot["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shift}");
}
