//! With `OSRM_URL` set the planner plans on the road service's times: asked once per run
//! (edits re-time against the stored tables), and a service that is down fails the run with
//! a message for the dispatcher that gives nothing of the service away.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::TestApp;
use crate::plans::{check_plan, draft_tomorrow, run_plan, tomorrow};
use crate::sinks::{road, RoadService};

/// A point of the stored problem as the request carried it (six decimals), (lon, lat).
fn point(problem: &Value, i: usize) -> (f64, f64) {
    let jobs = problem["jobs"].as_array().unwrap();
    let location = if i < jobs.len() {
        &jobs[i]["location"]
    } else {
        let v = &problem["vehicles"][(i - jobs.len()) / 2];
        if (i - jobs.len()).is_multiple_of(2) {
            &v["start"]
        } else {
            &v["end"]
        }
    };
    let six = |x: &Value| format!("{:.6}", x.as_f64().unwrap()).parse().unwrap();
    (six(&location["lon"]), six(&location["lat"]))
}

backend_test!(
    plans_follow_the_road_service,
    backend
        | backend
        | async move {
            let roads = RoadService::start().await;
            let url = roads.url.clone();
            let app = TestApp::start(backend, |s| {
                s.dispatch.osrm = Some((url, "car".to_owned()));
            })
            .await;
            let dispatcher = app.login("dispatcher@demo.test").await;
            let id = draft_tomorrow(&app, &dispatcher).await;
            assert!(roads.requests() > 0);

            // The plan keeps the service's tables and its routes pass the checker on them.
            let (status, doc) = app.get(&format!("/plans/{id}/problem"), &dispatcher).await;
            assert_eq!(status, StatusCode::OK);
            let problem = &doc["problem"];
            assert_eq!(problem["travel"]["type"], "matrix", "{}", problem["travel"]);
            let points = problem["travel"]["durations"].as_array().unwrap().len();
            for (a, b) in [(0, 1), (1, 0), (0, points - 1), (points - 1, 0)] {
                let (seconds, metres) = road(point(problem, a), point(problem, b));
                let given = &problem["travel"];
                assert!((given["durations"][a][b].as_f64().unwrap() - seconds).abs() < 1e-6);
                assert!((given["distances"][a][b].as_f64().unwrap() - metres).abs() < 1e-6);
            }
            let report = check_plan(&app, &dispatcher, id).await;
            assert_eq!(report.unassigned, 0);

            // An edit re-times on the stored tables: the service is not asked again.
            let asked = roads.requests();
            let (_, plan) = app.get(&format!("/plans/{id}"), &dispatcher).await;
            let (_, routes) = app.get(&format!("/plans/{id}/routes"), &dispatcher).await;
            let job = routes["routes"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["stops"].as_array().unwrap())
                .find_map(|s| s["job_id"].as_i64())
                .unwrap();
            let (status, edited) = app
                .patch(
                    &format!("/plans/{id}"),
                    &dispatcher,
                    &json!({"version": plan["version"], "locks": [{"job_id": job, "locked": true}]}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{edited}");
            assert_eq!(roads.requests(), asked);

            // The service goes down: the run fails with words for the dispatcher.
            roads.go_down();
            let failed = run_plan(
                &app,
                &dispatcher,
                json!({"date": tomorrow(), "time_limit_ms": 300}),
            )
            .await;
            assert_eq!(failed["status"], "failed", "{failed}");
            let error = failed["error"].as_str().unwrap();
            assert!(error.contains("road routing service"), "{error}");
            assert!(
                !error.contains("127.0.0.1") && !error.contains("OSRM"),
                "{error}"
            );
        }
);
