//! The day under way: live ETAs re-timed from a courier's reports, positions and the
//! sweep, and a visit that will be late told to its customer once.
//!
//! The day is the depot's today, in a time zone that leaves hours of it behind and ahead
//! whatever the hour in UTC (`ZonedDay`): a depot of its own open around the clock, one
//! courier on shift all day, two customers whose windows began at local midnight and end
//! ten minutes after filing. The plan visits both early in the day, so the courier leaving
//! now is late for the second visit (20 minutes of service at the first) but not for the
//! first, until his phone shows him far away. A second courier on shift all day can take
//! the late visit; one whose shift ends in a quarter of an hour cannot. Two relief tests
//! build days of their own on the same pattern: three visits of a technician, two of them
//! late once he sets off; and one courier alone with a visit that can wait ahead of one
//! that cannot.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::courier::report;
use crate::helpers::{read, TestApp};
use crate::sinks::{Receiver, SmtpSink};

const DEPOT: (f64, f64) = (48.137, 11.575);
/// Two customers a few hundred metres from the depot and from each other.
const HOMES: [(f64, f64); 2] = [(48.141, 11.580), (48.146, 11.571)];
/// The demo customers filing (both within warranty).
const FIRST_CUSTOMER: usize = 5;
/// The server's estimate: great-circle distance x 1.3 at 30 km/h (the defaults).
const DETOUR: f64 = 1.3;
const SPEED_MS: f64 = 30.0 / 3.6;

struct LiveDay {
    date: NaiveDate,
    plan_id: i64,
    /// The courier with both visits (signed in), and the other one on shift, if any.
    courier: String,
    spare: Option<String>,
    /// Job ids in route order, with their claims' tracking paths.
    stops: Vec<(i64, String)>,
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .unwrap()
}

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dl = (b.1 - a.1).to_radians();
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

/// The day a live test plans, at a depot in a time zone (a whole-hour `Etc/GMT` offset)
/// chosen from the hour in UTC so that the depot's day has at least three hours behind it
/// and three ahead whenever the test runs, and, at most hours, a local date other than
/// UTC's: 20:00-21:00 of UTC's yesterday while UTC's day is under nine hours old, 03:00-04:00
/// of UTC's tomorrow from 13:00 UTC on, noon of today in between. No test depends on the
/// hour it runs at, and the server's dates are checked against a depot's local ones.
struct ZonedDay {
    date: NaiveDate,
    time_zone: String,
    /// Local midnight and 23:59 of the date, in UTC: the depot's hours and the shifts.
    midnight: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl ZonedDay {
    fn now() -> Self {
        let now = Utc::now();
        let hour = i64::from(now.hour());
        // Hours east of UTC: local 20:xx yesterday, 12:xx today or 03:xx tomorrow.
        let east = match hour {
            0..=8 => 20 - 24 - hour,
            9..=12 => 12 - hour,
            _ => 3 + 24 - hour,
        };
        // `Etc/GMT-k` is k hours east of UTC (POSIX signs).
        let time_zone = match east {
            0 => "UTC".to_owned(),
            k if k > 0 => format!("Etc/GMT-{k}"),
            k => format!("Etc/GMT+{}", -k),
        };
        let date = (now + chrono::Duration::hours(east)).date_naive();
        let midnight = date.and_hms_opt(0, 0, 0).unwrap().and_utc() - chrono::Duration::hours(east);
        ZonedDay {
            date,
            time_zone,
            midnight,
            end: midnight + chrono::Duration::minutes(23 * 60 + 59),
        }
    }

    /// A depot named `name` at `DEPOT` in the day's time zone, open around the clock.
    fn depot(&self, name: &str) -> Value {
        json!({"name": name, "address": "Marienplatz 1", "lat": DEPOT.0, "lon": DEPOT.1,
               "opens": "00:00", "closes": "23:59", "time_zone": self.time_zone})
    }

    /// `courier` on shift all day, from `depot`.
    async fn shift(&self, app: &TestApp, courier: &Value, depot: &Value) {
        crate::helpers::put_shift_on(app, courier, depot, self.date, self.midnight, self.end).await;
    }

    /// A window from local midnight to `minutes` from now.
    fn until(&self, minutes: i64) -> Value {
        json!([{
            "start": self.midnight.to_rfc3339(),
            "end": (Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339(),
        }])
    }
}

/// Who else is on shift on a live day.
#[derive(Clone, Copy, PartialEq)]
enum Spare {
    Nobody,
    /// A second courier on shift all day.
    AllDay,
    /// A second courier on shift from now until a quarter of an hour from now: too short
    /// for any 20-minute visit, so the plan cannot give him one either.
    Leaving,
}

/// Sets up the day and publishes its plan; with a spare courier, the plan uses as few
/// couriers as it can (one).
async fn live_day(app: &TestApp, spare: Spare) -> LiveDay {
    let day = ZonedDay::now();
    let date = day.date;
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (depot, courier) = crate::helpers::own_depot_and_courier(
        app,
        &day.depot("Night and day"),
        "live.courier@demo.test",
        20,
    )
    .await;
    day.shift(app, &courier, &depot).await;
    let mut couriers = vec![("live.courier@demo.test", courier)];
    if spare != Spare::Nobody {
        let other = crate::helpers::new_courier(app, &depot, "spare.courier@demo.test", 20).await;
        if spare == Spare::Leaving {
            let now = Utc::now();
            let end = now + chrono::Duration::minutes(15);
            crate::helpers::put_shift_on(app, &other, &depot, date, now, end).await;
        } else {
            day.shift(app, &other, &depot).await;
        }
        couriers.push(("spare.courier@demo.test", other));
    }

    let mut tracking = std::collections::HashMap::new();
    for (i, home) in HOMES.iter().enumerate() {
        let n = FIRST_CUSTOMER + i;
        let (claim, job) = crate::plans::approved_claim_in(app, n, day.until(10), *home).await;
        tracking.insert(
            job["id"].as_i64().unwrap(),
            crate::plans::tracking_path(&claim),
        );
    }
    // Signed in before publishing: with AUTO_REOPTIMIZE a published visit already late can
    // move within half a second, and the route is read as published.
    let mut tokens = Vec::new();
    for (email, _) in &couriers {
        tokens.push(app.login(email).await);
    }
    let plan_id = crate::plans::publish_plan(
        app,
        &dispatcher,
        json!({"date": date, "depot_id": depot["id"], "time_limit_ms": 300,
               "objective": if spare == Spare::Nobody { "cost" } else { "fewest_couriers" }}),
    )
    .await;
    let (_, routes) = app
        .get(&format!("/plans/{plan_id}/routes"), &dispatcher)
        .await;
    let busy = routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["stops"].as_array().is_some_and(|s| !s.is_empty()))
        .map(|r| r["courier_id"].clone())
        .unwrap_or_else(|| panic!("a route with the visits: {routes}"));
    let mut courier = String::new();
    let mut other = None;
    for ((_, record), token) in couriers.iter().zip(tokens) {
        if record["id"] == busy {
            courier = token;
        } else {
            other = Some(token);
        }
    }
    let (_, route) = app.get(&format!("/me/route?date={date}"), &courier).await;
    let stops: Vec<(i64, String)> = route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["job"].as_i64())
        .map(|job| (job, tracking[&job].clone()))
        .collect();
    let (_, routes) = app
        .get(&format!("/plans/{plan_id}/routes"), &dispatcher)
        .await;
    assert_eq!(stops.len(), 2, "both visits on his route: {routes}");
    LiveDay {
        date,
        plan_id,
        courier,
        spare: other,
        stops,
    }
}

/// The courier's route with its `ETag`.
async fn route(app: &TestApp, day: &LiveDay) -> (String, Value) {
    crate::courier::route_of_day(app, &day.courier, day.date).await
}

fn stop(route: &Value, i: usize) -> Value {
    route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["job"].is_i64())
        .nth(i)
        .cloned()
        .unwrap()
}

fn close(a: DateTime<Utc>, b: DateTime<Utc>, what: &str) {
    assert!((a - b).num_seconds().abs() <= 2, "{what}: {a} against {b}");
}

/// The second visit's estimate follows the first's: its service, then the planned leg.
fn assert_follows(route: &Value) {
    let (first, second) = (stop(route, 0), stop(route, 1));
    let service = at(&first["depart"]) - at(&first["start"]);
    let leg = at(&second["arrive"]) - at(&first["depart"]);
    let first_start = at(&first["eta"]).max(at(&first["windows"][0]["from"]));
    close(
        at(&second["eta"]),
        first_start + service + leg,
        "second visit's estimate",
    );
}

backend_test!(
    late_reports_and_positions_move_the_etas_and_a_late_visit_is_told_once,
    backend
        | backend
        | async move {
            let receiver = Receiver::start().await;
            let (app, smtp) = SmtpSink::app(backend, |s| {
                // Only reports and positions re-time here (the sweep has its own test).
                s.dispatch.eta_sweep = Duration::from_secs(3600);
            })
            .await;
            let admin = app.login("admin@demo.test").await;
            app.subscribe_webhook(&admin, &receiver.url, &["visit.delayed"])
                .await;
            let day = live_day(&app, Spare::Nobody).await;
            let (first, second) = (day.stops[0].0, day.stops[1].0);
            let (etag, planned) = route(&app, &day).await;
            assert!(
                stop(&planned, 0)["eta"].is_null(),
                "no estimate before the day moves"
            );

            // He leaves for the first visit a minute ago: both visits are re-timed from
            // now, the second now starts after its window.
            let left = Utc::now() - chrono::Duration::minutes(1);
            let mut departed = json!({"type": "departed", "at": left.to_rfc3339(),
                                      "lat": DEPOT.0, "lon": DEPOT.1});
            let (status, answer) = report(&app, &day.courier, first, "live-1", &departed).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            let (etag_left, on_way) = route(&app, &day).await;
            assert_ne!(etag_left, etag, "new estimates are a new revision");
            // Times are shown to the second; stored ones are finer.
            let tick = chrono::Duration::seconds(1);
            let leg = at(&stop(&planned, 0)["arrive"]) - at(&planned["start"]);
            let first_eta = at(&stop(&on_way, 0)["eta"]);
            assert!(
                first_eta >= (left + leg - tick).max(Utc::now() - chrono::Duration::seconds(5)),
                "{first_eta} left {left} leg {leg} now {}: {on_way}",
                Utc::now()
            );
            assert!(first_eta <= Utc::now() + leg + tick, "{on_way}");
            assert_eq!(stop(&on_way, 0)["late"], Value::Null, "{on_way}");
            assert_eq!(stop(&on_way, 1)["late"], true, "{on_way}");
            assert_follows(&on_way);

            // His phone shows him 8 km away: the first visit is timed from there and is
            // late too.
            let far = (DEPOT.0 + 0.072, DEPOT.1);
            let seen = Utc::now();
            let (status, accepted) = app
                .post(
                    "/me/positions",
                    &day.courier,
                    &json!({"points": [{"at": seen.to_rfc3339(), "lat": far.0, "lon": far.1}]}),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
            let (etag_far, away) = route(&app, &day).await;
            assert_ne!(etag_far, etag_left);
            let drive = haversine_m(far, HOMES[stop_index(&day, first)]) * DETOUR / SPEED_MS;
            close(
                at(&stop(&away, 0)["eta"]),
                seen + chrono::Duration::milliseconds((drive * 1000.0) as i64),
                "first visit from the position",
            );
            assert_eq!(stop(&away, 0)["late"], true, "{away}");
            assert_follows(&away);

            // At the door: his arrival is a fact, not a forecast; the rest follows it.
            let arrived_at = Utc::now();
            departed["type"] = json!("arrived");
            departed["at"] = json!(arrived_at.to_rfc3339());
            let (status, answer) = report(&app, &day.courier, first, "live-2", &departed).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            let (_, there) = route(&app, &day).await;
            close(at(&stop(&there, 0)["eta"]), arrived_at, "arrival reported");
            assert_eq!(stop(&there, 0)["late"], Value::Null);
            assert_follows(&there);

            // One notice per late visit, by mail and webhook, however often it was re-timed.
            let calls = receiver
                .wait_until("two delay notices", |calls| calls.len() >= 2)
                .await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let calls = receiver.calls().len().max(calls.len());
            assert_eq!(calls, 2, "one visit.delayed per visit");
            let mut jobs: Vec<i64> = receiver
                .calls()
                .iter()
                .map(|c| {
                    let body = c.json();
                    assert_eq!(body["type"], "visit.delayed");
                    assert!(body["data"]["eta"].is_string(), "{body}");
                    body["data"]["job_id"].as_i64().unwrap()
                })
                .collect();
            jobs.sort_unstable();
            let mut expected = vec![first, second];
            expected.sort_unstable();
            assert_eq!(jobs, expected);
            for (i, (job, _)) in day.stops.iter().enumerate() {
                let customer = format!(
                    "customer{}@demo.test",
                    FIRST_CUSTOMER + stop_index(&day, *job)
                );
                let mail = wait_for_notice(&smtp, &customer).await;
                assert!(mail.body().contains("/track/"), "{}", mail.body());
                let late = notices(&smtp, &customer);
                assert_eq!(late, 1, "stop {i}: one notice");
            }

            // The dispatcher sees planned and current times side by side, and the flag.
            let dispatcher = app.login("dispatcher@demo.test").await;
            let (status, routes) = app
                .get(&format!("/plans/{}/routes", day.plan_id), &dispatcher)
                .await;
            assert_eq!(status, StatusCode::OK, "{routes}");
            let stops = routes["routes"][0]["stops"].as_array().unwrap().clone();
            let second_row = stops.iter().find(|s| s["job_id"] == second).unwrap();
            assert_eq!(second_row["delayed"], true);
            assert!(at(&second_row["eta_at"]) > at(&second_row["arrival_at"]));
            assert_eq!(
                routes["routes"][0]["delayed"], 1,
                "the first visit is at the door"
            );
            // Heads of department see it among the numbers.
            let samples = crate::metrics::scrape(&app, &admin).await;
            assert_eq!(
                crate::metrics::value(&samples, "claimroute_visits_delayed", &[]),
                Some(1.0)
            );

            // The customer of the late visit sees the new estimate and the delay.
            let (status, tracked) = read(
                app.request(Method::GET, &day.stops[1].1, None)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{tracked}");
            let visit = &tracked["visit"];
            assert_eq!(visit["delayed"], true, "{tracked}");
            close(
                at(&visit["eta"]),
                at(&stop(&there, 1)["eta"]),
                "tracking eta",
            );
            assert!(at(&visit["estimate"]["from"]) <= at(&visit["eta"]));
            assert!(at(&visit["estimate"]["to"]) >= at(&visit["eta"]));
        }
);

/// A delay notice's subject, in either language.
fn is_delay_notice(subject: &str) -> bool {
    subject.contains("running late") || subject.contains("задерживается")
}

/// The subject of a mail telling when to expect the courier, in either language.
fn is_visit_time(subject: &str) -> bool {
    subject.contains("courier visit on") || subject.contains("визит курьера")
}

fn notices(smtp: &SmtpSink, to: &str) -> usize {
    smtp.mails()
        .iter()
        .filter(|m| m.to() == to && is_delay_notice(&m.subject()))
        .count()
}

async fn wait_for_notice(smtp: &SmtpSink, to: &str) -> crate::sinks::Mail {
    smtp.wait_for_subject(to, "a delay notice", is_delay_notice)
        .await
}

fn stop_index(day: &LiveDay, job: i64) -> usize {
    // Customers were filed in HOMES order; the route may visit them either way.
    let mut by_filing: Vec<i64> = day.stops.iter().map(|(j, _)| *j).collect();
    by_filing.sort_unstable();
    by_filing.iter().position(|j| *j == job).unwrap()
}

backend_test!(
    the_sweep_retimes_a_day_begun_without_reports_and_tells_once,
    backend
        | backend
        | async move {
            let (app, smtp) = SmtpSink::app(backend, |s| {
                s.dispatch.eta_sweep = Duration::from_millis(500);
            })
            .await;
            let day = live_day(&app, Spare::Nobody).await;
            // The courier has not left: the sweep times his visits from now.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let swept = loop {
                let (_, r) = route(&app, &day).await;
                if stop(&r, 1)["eta"].is_string() {
                    break r;
                }
                assert!(std::time::Instant::now() < deadline, "no estimate: {r}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            let first_eta = at(&stop(&swept, 0)["eta"]);
            let leg = at(&stop(&swept, 0)["arrive"]) - at(&swept["start"]);
            // Stored when it moved by more than a minute: at most that stale.
            assert!(
                first_eta >= Utc::now() + leg - chrono::Duration::seconds(65),
                "{swept}"
            );
            let tick = chrono::Duration::seconds(1);
            assert!(first_eta <= Utc::now() + leg + tick, "{swept}");
            assert_follows(&swept);
            assert_eq!(stop(&swept, 1)["late"], true, "{swept}");
            let second = day.stops[1].0;
            let customer = format!(
                "customer{}@demo.test",
                FIRST_CUSTOMER + stop_index(&day, second)
            );
            wait_for_notice(&smtp, &customer).await;
            // Several sweeps later, still one notice.
            tokio::time::sleep(Duration::from_secs(3)).await;
            assert_eq!(notices(&smtp, &customer), 1);
        }
);

/// A relief test's start: the day with a spare courier published, and its courier setting
/// off for the first visit now.
struct SetOff {
    day: LiveDay,
    /// The spare courier's token.
    spare: String,
    first: i64,
    second: i64,
    /// The second visit's customer.
    customer: String,
    /// The courier's route's revision as published.
    etag: String,
}

async fn set_off(app: &TestApp, spare: Spare) -> SetOff {
    let day = live_day(app, spare).await;
    let (first, second) = (day.stops[0].0, day.stops[1].0);
    let (etag, planned) = route(app, &day).await;
    assert!(stop(&planned, 1)["job"] == second, "{planned}");
    let customer = format!(
        "customer{}@demo.test",
        FIRST_CUSTOMER + stop_index(&day, second)
    );
    let departed = json!({"type": "departed", "at": Utc::now().to_rfc3339(),
                          "lat": DEPOT.0, "lon": DEPOT.1});
    let (status, answer) = report(app, &day.courier, first, "relief-1", &departed).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    SetOff {
        spare: day.spare.clone().unwrap(),
        day,
        first,
        second,
        customer,
        etag,
    }
}

backend_test!(
    with_auto_reoptimize_a_late_visit_moves_to_a_courier_who_can_make_it,
    backend
        | backend
        | async move {
            let (app, smtp) = reoptimizing(backend).await;
            let SetOff {
                day,
                spare,
                first,
                second,
                customer,
                etag,
            } = set_off(&app, Spare::AllDay).await;
            // He sets off to the first visit; the sweep finds the second late behind the
            // first one's service; the other courier, idle at the depot a few hundred
            // metres away, makes it in time:
            // it moves to him, the first stays, both phones see new revisions, and its
            // customer hears when to expect him now.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let moved = loop {
                let (_, theirs) = crate::courier::route_of_day(&app, &spare, day.date).await;
                if crate::courier::stop_of(&theirs, second).is_some() {
                    break theirs;
                }
                assert!(std::time::Instant::now() < deadline, "not moved: {theirs}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            let (etag_now, mine) = route(&app, &day).await;
            assert_ne!(etag_now, etag);
            assert!(crate::courier::stop_of(&mine, second).is_none(), "{mine}");
            assert!(crate::courier::stop_of(&mine, first).is_some(), "{mine}");
            let stop = crate::courier::stop_of(&moved, second).unwrap();
            let window_end = at(&stop["windows"][0]["to"]);
            assert!(at(&stop["arrive"]) <= window_end, "on time now: {stop}");
            let report =
                crate::plans::check_plan(&app, &day_dispatcher(&app).await, day.plan_id).await;
            assert_eq!(report.unassigned, 0, "{report:?}");
            smtp.wait_for(&customer, "courier visit on").await;
        }
);

backend_test!(
    with_auto_reoptimize_a_late_visit_nobody_can_make_stays_and_its_customer_is_told,
    backend
        | backend
        | async move {
            let (app, smtp) = reoptimizing(backend).await;
            let off = set_off(&app, Spare::Leaving).await;
            // The second visit is late behind the first one's service, and the other
            // courier leaves before he could finish it: it stays, and its customer hears
            // of the delay.
            wait_for_notice(&smtp, &off.customer).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let (_, theirs) = crate::courier::route_of_day(&app, &off.spare, off.day.date).await;
            assert!(
                crate::courier::stop_of(&theirs, off.second).is_none(),
                "{theirs}"
            );
            let (_, mine) = route(&app, &off.day).await;
            assert!(
                crate::courier::stop_of(&mine, off.second).is_some(),
                "{mine}"
            );
            assert_eq!(stop(&mine, 1)["late"], true, "{mine}");
        }
);

backend_test!(
    a_sweep_moves_the_late_visits_another_courier_can_make_and_keeps_the_others,
    backend
        | backend
        | async move {
            let (app, _smtp) = reoptimizing(backend).await;
            let day = ZonedDay::now();
            let date = day.date;
            // Three visits of one technician, two exchanges and an on-site repair, all
            // due within ten minutes; a second courier without the skill idles at the
            // depot. However the plan orders them, when the technician sets off two of
            // them are late, and the spare courier can make exactly one: an exchange (he
            // cannot repair, and after one 20-minute visit he is past every window). The
            // sweep judges both late visits together; one moves, the other stays.
            let dispatcher = day_dispatcher(&app).await;
            let (status, depot) = app
                .post("/depots", &dispatcher, &day.depot("Three late"))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{depot}");
            let technician = crate::helpers::new_courier_with_skills(
                &app,
                &depot,
                "technician.courier@demo.test",
                20,
                &["technician"],
            )
            .await;
            let plain =
                crate::helpers::new_courier(&app, &depot, "plain.courier@demo.test", 20).await;
            for courier in [&technician, &plain] {
                day.shift(&app, courier, &depot).await;
            }
            let windows = day.until(10);
            let homes = [HOMES[0], HOMES[1], (48.139, 11.583)];
            let decisions = [
                json!({"decision": "replacement"}),
                json!({"decision": "replacement"}),
                json!({"decision": "repair", "logistics": "onsite"}),
            ];
            let mut repair = 0;
            let mut all = Vec::new();
            for (i, (home, decision)) in homes.iter().zip(decisions).enumerate() {
                let (_, job) = crate::plans::approved_claim_with(
                    &app,
                    FIRST_CUSTOMER + i,
                    windows.clone(),
                    *home,
                    decision,
                )
                .await;
                if job["kind"] == "onsite_repair" {
                    repair = job["id"].as_i64().unwrap();
                }
                all.push(job["id"].as_i64().unwrap());
            }
            let tech_token = app.login("technician.courier@demo.test").await;
            let plain_token = app.login("plain.courier@demo.test").await;
            let draft = crate::plans::run_plan(
                &app,
                &dispatcher,
                json!({"date": date, "depot_id": depot["id"], "time_limit_ms": 300,
                       "objective": "fewest_couriers"}),
            )
            .await;
            let plan_id = draft["id"].as_i64().unwrap();
            let (_, routes) = app
                .get(&format!("/plans/{plan_id}/routes"), &dispatcher)
                .await;
            let on_technician = routes["routes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["courier_id"] == technician["id"])
                .map(|r| {
                    let stops = r["stops"].as_array().unwrap();
                    stops.iter().filter(|s| s["kind"] == "job").count()
                });
            assert_eq!(on_technician, Some(3), "all three his: {routes}");
            crate::plans::publish(&app, &dispatcher, plan_id).await;
            // The sweep may already have moved a visit late before he sets off (it times
            // them from now); his first visit, on time, is his in any case.
            let (_, planned) = crate::courier::route_of_day(&app, &tech_token, date).await;
            let first = stop(&planned, 0)["job"].as_i64().unwrap();
            assert!(all.contains(&first), "{planned}");
            let departed = json!({"type": "departed", "at": Utc::now().to_rfc3339(),
                                  "lat": DEPOT.0, "lon": DEPOT.1});
            let (status, answer) = report(&app, &tech_token, first, "trio-1", &departed).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            // Several sweeps after the first move, still exactly one moved.
            let theirs = route_settled(&app, &plain_token, date, "nothing moved", |theirs| {
                theirs["stops"].as_array().is_some_and(|s| !s.is_empty())
            })
            .await;
            let moved: Vec<&Value> = theirs["stops"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["job"].is_i64())
                .collect();
            assert_eq!(moved.len(), 1, "{theirs}");
            let moved = moved[0];
            let moved_job = moved["job"].as_i64().unwrap();
            assert_ne!(moved_job, repair, "no repair without the skill: {theirs}");
            assert_ne!(moved_job, first, "the visit under way stays: {theirs}");
            assert!(
                at(&moved["arrive"]) <= at(&moved["windows"][0]["to"]),
                "on time now: {moved}"
            );
            let (_, mine) = crate::courier::route_of_day(&app, &tech_token, date).await;
            for job in all.iter().filter(|j| **j != moved_job) {
                assert!(
                    crate::courier::stop_of(&mine, *job).is_some(),
                    "{job}: {mine}"
                );
            }
            assert!(
                crate::courier::stop_of(&mine, moved_job).is_none(),
                "{mine}"
            );
            let report = crate::plans::check_plan(&app, &dispatcher, plan_id).await;
            assert_eq!(report.unassigned, 0, "{report:?}");
        }
);

backend_test!(
    a_late_visit_no_other_courier_can_take_moves_earlier_on_its_own_route,
    backend
        | backend
        | async move {
            let (app, smtp) = reoptimizing(backend).await;
            // One courier, two visits: one the customer can take all day, one due within
            // ten minutes. The dispatcher puts the urgent one second, so when the day is
            // timed from now it is late behind the other's 20-minute service; nobody else
            // is on shift, and it goes first on the same route instead, where both are on
            // time.
            let day = one_courier_day(&app).await;
            let (date, dispatcher) = (day.zoned.date, day.dispatcher.clone());
            let (_, patient) =
                crate::plans::approved_claim_in(&app, FIRST_CUSTOMER, day.all_day(), HOMES[0])
                    .await;
            let (_, urgent) = crate::plans::approved_claim_in(
                &app,
                FIRST_CUSTOMER + 1,
                day.zoned.until(10),
                HOMES[1],
            )
            .await;
            let [patient, urgent] = [patient, urgent].map(|job| job["id"].as_i64().unwrap());
            let token = app.login(ONLY_COURIER).await;
            let plan_id = day.publish_in_order(&app, &[patient, urgent], &[]).await;
            let customer = format!("customer{}@demo.test", FIRST_CUSTOMER + 1);
            // Several sweeps later it is still first, and both visits are on time.
            let mine = route_settled(&app, &token, date, "not moved", |mine| {
                job_order(mine) == vec![urgent, patient]
            })
            .await;
            assert_on_time(&mine, &[urgent, patient]);
            let report = crate::plans::check_plan(&app, &dispatcher, plan_id).await;
            assert_eq!(report.unassigned, 0, "{report:?}");
            // Told when to expect the courier at publication, and again after the move.
            smtp.wait_for_subject(&customer, "a second visit time", |_| {
                let told = smtp
                    .mails()
                    .iter()
                    .filter(|m| m.to() == customer && is_visit_time(&m.subject()))
                    .count();
                told >= 2
            })
            .await;
        }
);

backend_test!(
    a_late_visit_whose_one_move_would_make_another_late_gets_its_route_reordered,
    backend
        | backend
        | async move {
            let (app, _smtp) = reoptimizing(backend).await;
            // One courier, three 20-minute visits: one the customer can take all day, then
            // one due within 32 minutes and one within 38. Timed from now the last is late;
            // put before the second, or first, it makes the second late, so no one move
            // will do. Both urgent visits first and the patient one after keeps every
            // window: the route is put in that order.
            let day = one_courier_day(&app).await;
            let (date, dispatcher) = (day.zoned.date, day.dispatcher.clone());
            let ([patient, sooner, later], plan_id) =
                two_urgent_behind_one(&app, &day, false).await;
            let token = app.login(ONLY_COURIER).await;
            // Several sweeps later the order holds and every visit is on time.
            let mine = route_settled(&app, &token, date, "not reordered", |mine| {
                job_order(mine).last() == Some(&patient)
            })
            .await;
            let mut urgent = job_order(&mine)[..2].to_vec();
            urgent.sort_unstable();
            let mut expected = vec![sooner, later];
            expected.sort_unstable();
            assert_eq!(urgent, expected, "{mine}");
            assert_on_time(&mine, &[patient, sooner, later]);
            let report = crate::plans::check_plan(&app, &dispatcher, plan_id).await;
            assert_eq!(report.unassigned, 0, "{report:?}");
        }
);

backend_test!(
    a_route_with_a_locked_stop_ahead_is_not_reordered,
    backend
        | backend
        | async move {
            let (app, smtp) = reoptimizing(backend).await;
            // The day of the test above, with the visit that can wait locked by the
            // dispatcher where he put it: the order that would save the late visit moves
            // it, so the route stays as it is and the late visit's customer is told.
            let day = one_courier_day(&app).await;
            let ([patient, sooner, later], _) = two_urgent_behind_one(&app, &day, true).await;
            let token = app.login(ONLY_COURIER).await;
            wait_for_notice(&smtp, &format!("customer{FIRST_CUSTOMER}@demo.test")).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let (_, mine) = crate::courier::route_of_day(&app, &token, day.zoned.date).await;
            assert_eq!(job_order(&mine), vec![patient, sooner, later], "{mine}");
        }
);

const ONLY_COURIER: &str = "only.courier@demo.test";

/// A day with one courier on shift from midnight to 23:59 at a depot of his own, and no
/// other: a late visit there has nowhere to go but elsewhere on his route.
struct OneCourierDay {
    zoned: ZonedDay,
    dispatcher: String,
    depot: Value,
    courier: Value,
}

async fn one_courier_day(app: &TestApp) -> OneCourierDay {
    let zoned = ZonedDay::now();
    let dispatcher = day_dispatcher(app).await;
    let (depot, courier) =
        crate::helpers::own_depot_and_courier(app, &zoned.depot("One courier"), ONLY_COURIER, 20)
            .await;
    zoned.shift(app, &courier, &depot).await;
    OneCourierDay {
        zoned,
        dispatcher,
        depot,
        courier,
    }
}

impl OneCourierDay {
    /// A window as long as the courier's shift.
    fn all_day(&self) -> Value {
        json!([{"start": self.zoned.midnight.to_rfc3339(), "end": self.zoned.end.to_rfc3339()}])
    }

    /// Plans the day, has the dispatcher put `jobs` on the courier's route in that order
    /// (locking those of them in `locked` there) and publishes it; the plan's id.
    async fn publish_in_order(&self, app: &TestApp, jobs: &[i64], locked: &[i64]) -> i64 {
        let draft = crate::plans::run_plan(
            app,
            &self.dispatcher,
            json!({"date": self.zoned.date, "depot_id": self.depot["id"], "time_limit_ms": 300}),
        )
        .await;
        let plan_id = draft["id"].as_i64().unwrap();
        let moves: Vec<Value> = jobs
            .iter()
            .enumerate()
            .map(|(position, job)| {
                json!({"job_id": job, "courier_id": self.courier["id"], "position": position})
            })
            .collect();
        let (status, edited) = app
            .patch(
                &format!("/plans/{plan_id}"),
                &self.dispatcher,
                &json!({"version": draft["version"], "moves": moves,
                        "locks": locked.iter().map(|job| json!({"job_id": job, "locked": true}))
                                       .collect::<Vec<_>>()}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        crate::plans::publish(app, &self.dispatcher, plan_id).await;
        plan_id
    }
}

/// A stop's current estimate: its live ETA, or the planned arrival before there is one.
fn current_eta(stop: &Value) -> DateTime<Utc> {
    stop["eta"]
        .as_str()
        .map_or_else(|| at(&stop["arrive"]), |_| at(&stop["eta"]))
}

/// On `day`, three 20-minute visits in this order: one the customer can take all day
/// (locked there by the dispatcher with `lock_patient`), one due within 32 minutes and one
/// within 38; the plan published. Their job ids in that order, and the plan's id.
async fn two_urgent_behind_one(
    app: &TestApp,
    day: &OneCourierDay,
    lock_patient: bool,
) -> ([i64; 3], i64) {
    let (_, patient) =
        crate::plans::approved_claim_in(app, FIRST_CUSTOMER, day.all_day(), HOMES[0]).await;
    let (_, sooner) =
        crate::plans::approved_claim_in(app, FIRST_CUSTOMER + 1, day.zoned.until(32), HOMES[1])
            .await;
    let (_, later) =
        crate::plans::approved_claim_in(app, FIRST_CUSTOMER, day.zoned.until(38), HOMES[0]).await;
    let jobs = [patient, sooner, later].map(|job| job["id"].as_i64().unwrap());
    let locked = if lock_patient { &jobs[..1] } else { &[] };
    let plan_id = day.publish_in_order(app, &jobs, locked).await;
    (jobs, plan_id)
}

/// The jobs of a courier's route, in its order.
/// A courier's route of `date` once `settled` holds of it (within 30 seconds, else the
/// test fails saying `what`), read again two seconds (several sweeps) later with its visits
/// in the same order.
async fn route_settled(
    app: &TestApp,
    token: &str,
    date: NaiveDate,
    what: &str,
    settled: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let first = loop {
        let (_, route) = crate::courier::route_of_day(app, token, date).await;
        if settled(&route) {
            break route;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {route}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, route) = crate::courier::route_of_day(app, token, date).await;
    assert_eq!(
        job_order(&route),
        job_order(&first),
        "the order held: {route}"
    );
    route
}

/// Each of `jobs` on `route` expected inside its window by its current estimate, and not
/// flagged late.
fn assert_on_time(route: &Value, jobs: &[i64]) {
    for &job in jobs {
        let stop = crate::courier::stop_of(route, job).unwrap();
        let window_end = at(&stop["windows"][0]["to"]);
        assert!(current_eta(&stop) <= window_end, "on time now: {stop}");
        assert_ne!(stop["late"], true, "{stop}");
    }
}

fn job_order(route: &Value) -> Vec<i64> {
    route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["job"].as_i64())
        .collect()
}

/// A server whose ETA sweep runs every 0.3 s and whose `AUTO_REOPTIMIZE` sweep every 0.2 s,
/// with its SMTP sink.
async fn reoptimizing(backend: crate::helpers::Backend) -> (TestApp, SmtpSink) {
    SmtpSink::app(backend, |s| {
        s.dispatch.eta_sweep = Duration::from_millis(300);
        s.dispatch.auto_reoptimize = Some(Duration::from_millis(200));
    })
    .await
}

async fn day_dispatcher(app: &TestApp) -> String {
    app.login("dispatcher@demo.test").await
}
