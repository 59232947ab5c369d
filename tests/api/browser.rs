//! The console, the tracking page and the API docs in a real browser: Debian's Chromium,
//! headless, driven over WebDriver (chromedriver) against the real server with the demo
//! city. Each test saves screenshots under `target/screenshots/` for a reviewer.
//!
//! Without chromedriver the tests are skipped with a message, unless `REQUIRE_BROWSER=1`
//! (as `.ci/run` sets), which makes a missing browser a failure.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp, DEMO_PASSWORD};
use crate::plans::tracking_path;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    pub client: Client,
    driver: Child,
    base: String,
    _profile: PathBuf,
}

impl Browser {
    /// A fresh headless Chromium (its own profile, so its own cookies) at `width` x `height`;
    /// `None` when there is none here and none is required.
    pub async fn start(app: &TestApp, width: u32, height: u32) -> Option<Self> {
        let driver_path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
        if !std::path::Path::new(&driver_path).exists() {
            assert!(
                std::env::var("REQUIRE_BROWSER").as_deref() != Ok("1"),
                "REQUIRE_BROWSER=1 but there is no chromedriver at {driver_path} \
                 (apt-get install chromium chromium-driver)"
            );
            eprintln!("skipped: no chromedriver at {driver_path}");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let profile = crate::helpers::temp_dir().join("chromium-profile");
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                // The machine has no internet: Chromium's own background traffic is off.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", profile.display()),
                         format!("--window-size={width},{height}")],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            match ClientBuilder::native()
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Self {
                        client,
                        driver,
                        base: app.base.clone(),
                        _profile: profile,
                    })
                }
                Err(e) => last_error = Some(e),
            }
        }
        panic!("chromedriver did not start a session: {last_error:?}");
    }

    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        self.css_within(selector, 10).await
    }

    /// Like `css`, waiting up to `seconds` (a plan run on a busy machine).
    pub async fn css_within(&self, selector: &str, seconds: u64) -> fantoccini::elements::Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(seconds))
            .for_element(Locator::Css(selector))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no `{selector}` on {}: {e}", self.path().await),
        }
    }

    /// Waits (up to `seconds`) until the browser's address satisfies `arrived`.
    pub async fn wait_for_path(&self, seconds: u64, arrived: impl Fn(&str) -> bool) {
        for _ in 0..seconds * 10 {
            if arrived(&self.path().await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("still at {}", self.path().await);
    }

    pub async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    pub async fn select(&self, selector: &str, value: &str) {
        self.css(selector)
            .await
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Replaces what a field holds with `text`.
    pub async fn fill(&self, selector: &str, text: &str) {
        let field = self.css(selector).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn text(&self, selector: &str) -> String {
        self.css(selector).await.text().await.unwrap()
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }

    /// Signs in through the sign-in page.
    pub async fn sign_in(&self, email: &str) {
        self.open("/app/login").await;
        self.fill("#email", email).await;
        self.fill("#password", DEMO_PASSWORD).await;
        self.click("form[action='/app/login'] button[type=submit]")
            .await;
        self.wait_for_path(10, |path| path != "/app/login").await;
    }

    /// Saves what the browser shows as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    pub async fn close(mut self) {
        let client = self.client.clone();
        client.close().await.ok();
        self.driver.kill().ok();
        self.driver.wait().ok();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.driver.kill().ok();
    }
}

/// Runs a browser test on its own runtime against a fresh server on SQLite (the pages read
/// through the same application layer that the API tests run on both backends).
fn browser_test<F, Fut>(body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    crate::helpers::run_test(Backend::Sqlite, module_path!(), |backend| async move {
        body(TestApp::start(backend, |_| {}).await).await;
    });
}

#[test]
fn the_manager_approves_the_most_urgent_claim() {
    browser_test(|app| async move {
        let Some(browser) = Browser::start(&app, 1280, 900).await else {
            return;
        };
        let token = app.login("manager1@demo.test").await;
        let me = app.user_id("manager1@demo.test").await;
        let due = |c: &Value| {
            chrono::DateTime::parse_from_rfc3339(c["stage_due_at"].as_str().unwrap()).unwrap()
        };
        let open = app.open_claims_of(me, &token).await;
        let most_urgent = open
            .iter()
            .filter(|c| c["stage_due_at"].is_string())
            .min_by_key(|c| (due(c), c["id"].as_i64()))
            .unwrap()
            .clone();
        let id = most_urgent["id"].as_i64().unwrap();

        browser.sign_in("manager1@demo.test").await;
        assert_eq!(browser.path().await, "/app/claims");
        let first = browser.css("table.queue tbody tr").await;
        assert_eq!(
            first.attr("data-claim").await.unwrap().as_deref(),
            most_urgent["number"].as_str()
        );
        let rows = browser
            .client
            .find_all(Locator::Css("table.queue tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), open.len(), "the queue shows his open claims");
        let overdue_rows = browser
            .client
            .find_all(Locator::Css("table.queue tbody tr.overdue"))
            .await
            .unwrap();
        let now = chrono::Utc::now();
        let overdue = open
            .iter()
            .filter(|c| c["stage_due_at"].is_string() && due(c) < now);
        assert_eq!(overdue_rows.len(), overdue.count());
        browser.screenshot("manager-queue").await;

        first
            .find(Locator::Css("a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser.css("#decision-form").await;
        assert_eq!(browser.path().await, format!("/app/claims/{id}"));
        browser.select("#decision", "refund").await;
        browser.fill("#refund_amount", "-5").await;
        browser.click("#decision-form button[type=submit]").await;
        let error = browser
            .css("[data-error-for='refund_amount_cents']:not([hidden])")
            .await;
        assert_eq!(
            error.text().await.unwrap(),
            "the refund amount must be greater than zero"
        );
        assert_eq!(
            browser
                .css("#refund_amount")
                .await
                .attr("aria-invalid")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        browser.screenshot("manager-claim-field-error").await;
        let (_, unchanged) = app.get(&format!("/claims/{id}"), &token).await;
        assert_eq!(unchanged["status"], most_urgent["status"]);
        assert!(unchanged["decision"].is_null());

        browser.select("#decision", "replacement").await;
        browser.css("#refund_amount").await.clear().await.unwrap();
        if let Ok(reason) = browser.client.find(Locator::Css("#override_reason")).await {
            reason.send_keys("goodwill").await.unwrap();
        }
        browser.click("#decision-form button[type=submit]").await;
        browser.css("#claim-status[data-status='approved']").await;
        let (_, approved) = app.get(&format!("/claims/{id}"), &token).await;
        assert_eq!(approved["status"], "approved");
        assert_eq!(approved["decision"]["decision"], "replacement");
        assert!(!approved["jobs"].as_array().unwrap().is_empty());
        browser.screenshot("manager-claim-approved").await;
        browser.close().await;
    });
}

/// The kinds of a claim's jobs, in order.
fn job_kinds(claim: &Value) -> Vec<&str> {
    claim["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["kind"].as_str().unwrap())
        .collect()
}

#[test]
fn the_head_sends_a_washing_machine_to_a_contract_workshop_and_a_fridge_replacement_from_a_supplier(
) {
    browser_test(|app| async move {
        let Some(browser) = Browser::start(&app, 1280, 900).await else {
            return;
        };
        let head = app.login("head@demo.test").await;
        // A workshop for vacuum cleaners only: not offered for a washing machine.
        crate::contractor::new_workshop(&app, &head, "Vacuum Doctor", &["vacuum"]).await;
        let (_, workshops) = app
            .get("/partners?kind=workshop&category=washing_machine", &head)
            .await;
        let spree = workshops["items"][0].clone();
        let customer = app.login("customer1@demo.test").await;
        let id = app.file_claim(&customer, "DEMO-0001").await["id"]
            .as_i64()
            .unwrap();

        browser.sign_in("head@demo.test").await;
        browser.open(&format!("/app/claims/{id}")).await;
        browser.css("#decision-form").await;
        let offered: Vec<String> = browser
            .eval("return [...document.querySelectorAll('#partner_id option')].map(o => o.value)")
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(offered, vec![String::new(), spree["id"].to_string()]);
        // The suppliers of the product are offered for a replacement from a supplier.
        let (_, suppliers) = app
            .get("/partners?kind=supplier&category=washing_machine", &head)
            .await;
        let offered: Value = browser
            .eval("return [...document.querySelectorAll('#supplier_id option')].map(o => o.value)")
            .await;
        let mut expected = vec![json!("")];
        expected.extend(
            suppliers["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| json!(s["id"].to_string())),
        );
        assert!(expected.len() > 1, "{suppliers}");
        assert_eq!(offered, Value::Array(expected));

        // Without the workshop the API names the field; with it the claim is approved.
        browser.select("#decision", "repair").await;
        browser.select("#logistics", "contractor").await;
        browser.click("#decision-form button[type=submit]").await;
        let error = browser
            .css("[data-error-for='partner_id']:not([hidden])")
            .await;
        assert!(error.text().await.unwrap().contains("workshop"));
        browser
            .select("#partner_id", &spree["id"].to_string())
            .await;
        browser.click("#decision-form button[type=submit]").await;
        browser.css("#claim-status[data-status='approved']").await;
        let shown = browser.text("#decision-logistics").await;
        assert!(shown.ends_with(spree["name"].as_str().unwrap()), "{shown}");
        browser.screenshot("head-claim-contract-workshop").await;
        let (_, approved) = app.get(&format!("/claims/{id}"), &head).await;
        assert_eq!(approved["decision"]["logistics"], "contractor");
        assert_eq!(approved["decision"]["partner_id"], spree["id"]);
        assert_eq!(job_kinds(&approved), ["pickup", "drop_off"]);

        // A fridge replaced from the supplier: the form sends the supplier chosen.
        let customer = app.login("customer2@demo.test").await;
        let fridge = app.file_claim(&customer, "DEMO-0002").await["id"]
            .as_i64()
            .unwrap();
        browser.open(&format!("/app/claims/{fridge}")).await;
        browser.css("#decision-form").await;
        browser.select("#decision", "replacement").await;
        browser.select("#logistics", "supplier").await;
        let havel = suppliers["items"][0]["id"].to_string();
        browser.select("#supplier_id", &havel).await;
        browser.click("#decision-form button[type=submit]").await;
        browser.css("#claim-status[data-status='approved']").await;
        let (_, approved) = app.get(&format!("/claims/{fridge}"), &head).await;
        assert_eq!(approved["decision"]["logistics"], "supplier");
        assert_eq!(approved["decision"]["partner_id"].to_string(), havel);
        assert_eq!(job_kinds(&approved), ["collect_new", "exchange"]);
        browser.close().await;
    });
}

#[test]
fn the_customer_sees_her_planned_window_on_a_phone() {
    browser_test(|app| async move {
        let (claim, job) = crate::plans::approved_claim(&app, 1, (9, 13), (52.5219, 13.4132)).await;
        let job = job["id"].as_i64().unwrap();
        let dispatcher = app.login("dispatcher@demo.test").await;
        crate::plans::publish_tomorrow(&app, &dispatcher).await;
        let path = tracking_path(&claim);
        let tracked = app
            .client
            .get(format!("{}/api/v1{path}", app.base))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let window = &tracked["visit"]["windows"][0];
        assert!(window.is_object(), "the visit is planned: {tracked}");
        let local = |field: &str| {
            chrono::DateTime::parse_from_rfc3339(window[field].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono_tz::Europe::Berlin)
                .format("%H:%M")
                .to_string()
        };
        let expected = format!("{}–{}", local("start"), local("end"));

        let Some(browser) = Browser::start(&app, 360, 740).await else {
            return;
        };
        browser.open(&path).await;
        assert_eq!(
            browser.text("#claim-number").await,
            claim["number"].as_str().unwrap()
        );
        let when = browser.text("#visit-when").await;
        assert!(when.contains(&expected), "{when} shows {expected}");
        let current = browser.text("ol.stages li[aria-current=step]").await;
        assert_eq!(current, "Visit");
        // Readable at 360 px: nothing wider than the screen.
        let overflow = browser
            .eval("return document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "wider than the phone: {overflow}"
        );
        let source = browser.client.source().await.unwrap();
        assert!(
            !source.contains("@demo.test"),
            "no staff or customer addresses"
        );
        browser.screenshot("tracking-360").await;

        browser.open(&format!("{path}?lang=ru")).await;
        assert!(browser.text("#visit-when").await.contains(&expected));
        assert_eq!(
            browser.text("ol.stages li[aria-current=step]").await,
            "Визит"
        );
        browser.screenshot("tracking-360-ru").await;
        // No courier on the way yet: no ETA, no map.
        let (on_the_way, map) = (
            browser.client.find(Locator::Css("#visit-eta")).await,
            browser.client.find(Locator::Css("#track-map")).await,
        );
        assert!(on_the_way.is_err() && map.is_err());

        // She moves the visit to another time the day can take, on the page: the choices
        // are the API's, and the booked window is the one she then sees.
        let (status, offer) = crate::helpers::read(
            app.request(reqwest::Method::GET, &format!("{path}/slots"), None)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{offer}");
        let current = (window["start"].clone(), window["end"].clone());
        let chosen = offer["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["date"] == json!(crate::plans::tomorrow())
                    && (s["start"].clone(), s["end"].clone()) != current
            })
            .unwrap_or_else(|| panic!("another time tomorrow: {offer}"))
            .clone();
        let shown = browser
            .eval("return [...document.querySelectorAll('#choose input[name=slot]')].map(i => i.value)")
            .await;
        let offered: Vec<String> = offer["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let at = |f: &str| {
                    chrono::DateTime::parse_from_rfc3339(s[f].as_str().unwrap())
                        .unwrap()
                        .with_timezone(&chrono::Utc)
                        .to_rfc3339()
                };
                format!("{}|{}", at("start"), at("end"))
            })
            .collect();
        assert_eq!(shown, json!(offered), "the page offers the API's slots");
        let at =
            |f: &str| chrono::DateTime::parse_from_rfc3339(chosen[f].as_str().unwrap()).unwrap();
        browser
            .click(&format!(
                "#choose input[value='{}|{}']",
                at("start").with_timezone(&chrono::Utc).to_rfc3339(),
                at("end").with_timezone(&chrono::Utc).to_rfc3339()
            ))
            .await;
        browser.click("#book-slot").await;
        browser.css("#slot-booked").await;
        let berlin = |f: &str| {
            at(f)
                .with_timezone(&chrono_tz::Europe::Berlin)
                .format("%H:%M")
                .to_string()
        };
        let moved = format!("{}–{}", berlin("start"), berlin("end"));
        let when = browser.text("#visit-when").await;
        assert!(when.contains(&moved), "{when} shows {moved}");
        browser.screenshot("tracking-360-rebooked").await;

        // The courier sets off and his phone shares where he is: she sees his ETA and him.
        let (_, courier, _) = crate::courier::courier_of(&app, job).await;
        let (status, answer) = crate::courier::report(
            &app,
            &courier,
            job,
            "set-off",
            &crate::courier::event("departed"),
        )
        .await;
        assert!(status.is_success(), "{answer}");
        let (status, _) = app
            .post(
                "/me/positions",
                &courier,
                &json!({"points": [{"at": chrono::Utc::now().to_rfc3339(), "lat": 52.5301, "lon": 13.4011}]}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let tracked: Value = app
            .client
            .get(format!("{}/api/v1{path}", app.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(tracked["visit"]["on_the_way"], true, "{tracked}");
        assert_eq!(tracked["visit"]["courier"]["lat"], 52.5301);
        let eta = chrono::DateTime::parse_from_rfc3339(tracked["visit"]["eta"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Berlin)
            .format("%H:%M")
            .to_string();
        browser.open(&path).await;
        assert!(browser.text("#visit-eta").await.contains(&eta));
        browser.css("#courier-seen").await;
        browser.css("#track-map path.courier-dot").await;
        browser.screenshot("tracking-360-on-the-way").await;

        browser.open("/track/not-a-real-token").await;
        browser.css("[data-problem='not_found']").await;
        browser.close().await;
        let response = app
            .client
            .get(format!("{}/track/not-a-real-token", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    });
}

#[test]
fn customers_and_couriers_are_told_the_console_is_not_for_them() {
    browser_test(|app| async move {
        let Some(browser) = Browser::start(&app, 1280, 900).await else {
            return;
        };
        browser.sign_in("customer1@demo.test").await;
        browser.css("[data-problem='not_for_role']").await;
        browser.open("/app/claims").await;
        browser.css("[data-problem='not_for_role']").await;
        browser.open("/app/claims/1").await;
        browser.css("[data-problem='not_for_role']").await;
        // The session cookie is out of the page's scripts' reach.
        let cookies = browser.eval("return document.cookie").await;
        assert!(!cookies.as_str().unwrap().contains("claimroute_session"));
        browser.screenshot("not-for-role").await;
        browser.click("[data-problem] form button").await;
        browser.css("#email").await;
        browser.sign_in("courier1@demo.test").await;
        browser.css("[data-problem='not_for_role']").await;
        browser.close().await;
    });
}

#[test]
fn the_api_docs_render_from_the_binary() {
    browser_test(|app| async move {
        let Some(browser) = Browser::start(&app, 1280, 900).await else {
            return;
        };
        browser.open("/docs").await;
        browser.css(".opblock").await;
        let operations = browser
            .client
            .find_all(Locator::Css(".opblock"))
            .await
            .unwrap();
        assert!(operations.len() > 40, "{} operations", operations.len());
        let paths = browser
            .eval(
                "return [...document.querySelectorAll('.opblock-summary-path')]\
                 .map(e => e.textContent.replace(/\\u200b/g, ''))",
            )
            .await;
        let paths: Vec<&str> = paths
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(paths.contains(&"/api/v1/claims/{id}/decision"), "{paths:?}");
        browser.screenshot("api-docs").await;
        browser.close().await;
    });
}

/// Waits until `check` (a script returning true or false) holds on the page.
async fn until(browser: &Browser, what: &str, check: &str) {
    for _ in 0..100 {
        if browser.eval(check).await == Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: still not so on {}", browser.path().await);
}

#[test]
fn the_dispatcher_plans_edits_and_publishes_a_day() {
    browser_test(|app| async move {
        let Some(browser) = Browser::start(&app, 1280, 1000).await else {
            return;
        };
        let dispatcher = app.login("dispatcher@demo.test").await;
        let day = crate::plans::tomorrow();
        browser.sign_in("dispatcher@demo.test").await;
        assert_eq!(browser.path().await, "/app/plans");
        browser.open(&format!("/app/plans?date={day}")).await;
        browser.fill("#time_limit", "0.5").await;
        // Cost is what the form offers first; the dispatcher asks for balanced days.
        assert_eq!(
            browser
                .eval("return document.getElementById('objective').value")
                .await,
            "cost"
        );
        browser.select("#objective", "balanced").await;
        browser.click("#run-form button[type=submit]").await;
        browser.css("#run-progress:not([hidden])").await;
        browser
            .wait_for_path(20, |path| path.starts_with("/app/plans/"))
            .await;
        let plan_id: i64 = browser.path().await["/app/plans/".len()..].parse().unwrap();
        let (_, plan) = app.get(&format!("/plans/{plan_id}"), &dispatcher).await;
        assert_eq!(plan["status"], "draft", "{plan}");
        assert_eq!(plan["time_limit_ms"], 500);
        assert_eq!(plan["objective"], "balanced");
        let (_, routes) = app
            .get(&format!("/plans/{plan_id}/routes"), &dispatcher)
            .await;
        let job_stops = crate::plans::stop_jobs;
        let used = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !job_stops(r).is_empty())
            .count();
        assert!(used > 0);
        // One line per courier with stops, a numbered pin per stop.
        until(
            &browser,
            "route lines drawn",
            &format!("return document.querySelectorAll('path.route-line').length === {used}"),
        )
        .await;
        let planned: usize = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| job_stops(r).len())
            .sum();
        let pins = browser
            .eval("return document.querySelectorAll('.stop-pin:not(.unassigned)').length")
            .await;
        assert_eq!(pins.as_u64().unwrap() as usize, planned);
        let unassigned = routes["unassigned"].as_array().unwrap();
        let listed = browser
            .eval("return document.querySelectorAll('#unassigned li[data-job]').length")
            .await;
        assert_eq!(listed.as_u64().unwrap() as usize, unassigned.len());
        let timeline_blocks = browser
            .eval("return document.querySelectorAll('#timeline rect.visit').length")
            .await;
        assert_eq!(timeline_blocks.as_u64().unwrap() as usize, planned);
        browser.screenshot("dispatcher-plan").await;

        // The cash refund goes to a courier without the cash skill: the violation shows on
        // the stop at once; moved back, it is gone.
        let (_, jobs) = app
            .get(&format!("/jobs?date={day}&limit=200"), &dispatcher)
            .await;
        let refund = jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["kind"] == "refund")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (_, couriers) = app.get("/couriers", &dispatcher).await;
        let non_cash = couriers["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                !c["skills"].as_array().unwrap().contains(&json!("cash"))
                    && routes["routes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r["courier_id"] == c["id"])
            })
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let home = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| job_stops(r).contains(&refund))
            .unwrap();
        let home_courier = home["courier_id"].as_i64().unwrap();
        let home_position = job_stops(home).iter().position(|&j| j == refund).unwrap();

        let move_to = |courier: i64, position: usize| {
            let browser = &browser;
            async move {
                browser
                    .click(&format!("button.stop[data-job='{refund}']"))
                    .await;
                browser.select("#move-courier", &courier.to_string()).await;
                browser
                    .fill("#move-position", &(position + 1).to_string())
                    .await;
                browser.click("#move").await;
            }
        };
        move_to(non_cash, 0).await;
        until(
            &browser,
            "the missing skill shown on the stop",
            &format!(
                "return [...document.querySelectorAll(\"li[data-job='{refund}'] .violation\")]\
                 .some(e => e.textContent === 'missing skill: cash')"
            ),
        )
        .await;
        let moved = browser
            .eval(&format!(
                "return document.querySelector(\"section.route[data-courier='{non_cash}'] li[data-job]\").dataset.job"
            ))
            .await;
        assert_eq!(moved, json!(refund.to_string()), "placed first as asked");
        let (_, edited) = app.get(&format!("/plans/{plan_id}"), &dispatcher).await;
        assert_eq!(edited["kpis"]["violations"], 1);
        browser.screenshot("dispatcher-violation").await;

        move_to(home_courier, home_position).await;
        until(
            &browser,
            "the violation gone",
            &format!(
                "return document.querySelector(\"section.route[data-courier='{home_courier}'] li[data-job='{refund}']\") !== null \
                 && document.querySelectorAll('.violation').length === 0"
            ),
        )
        .await;

        browser.click("#publish").await;
        browser
            .css("#publish-dialog[open] #publish-clean:not([hidden])")
            .await;
        browser.screenshot("dispatcher-publish").await;
        browser.click("#publish-confirm").await;
        browser.css("#plan-status[data-status='published']").await;
        let (_, published) = app.get(&format!("/plans/{plan_id}"), &dispatcher).await;
        assert_eq!(published["status"], "published");
        assert_eq!(published["kpis"]["violations"], 0);
        browser.css("[data-kpi='done']").await;

        // A published day can be planned again from where it stands: a new draft.
        browser.click("#reoptimize:not([hidden])").await;
        browser
            .wait_for_path(10, |path| {
                path.starts_with("/app/plans/") && path != format!("/app/plans/{plan_id}")
            })
            .await;
        browser
            .css_within("#plan-status[data-status='draft']", 60)
            .await;
        let (_, plans) = app.get("/plans", &dispatcher).await;
        let again = plans["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["reoptimizes_id"] == plan_id)
            .cloned()
            .unwrap_or_else(|| panic!("no re-optimisation of {plan_id}: {plans}"));
        assert_eq!(browser.path().await, format!("/app/plans/{}", again["id"]));
        browser.close().await;
    });
}
