//! The VROOM-compatible door on VROOM's own example problems (`tests/data/vroom`, BSD
//! licence kept beside them): `planner solve --format vroom` answers example 2 (a custom
//! matrix) exactly as VROOM's documented solution, example 1 (jobs, a shipment, skills, a
//! break) with VROOM's fields for every route and step; problems VROOM's format allows but
//! the planner cannot honour are refused with code 2; `max_tasks` holds; `planner serve`
//! answers as vroom-express does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use planner::io::vroom;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

fn data(name: &str) -> String {
    format!("{}/tests/data/vroom/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

fn solve_file(path: &str) -> (Option<i32>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_planner"))
        .args(["solve", path, "--format", "vroom", "--iterations", "300"])
        .args(["--threads", "1"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

fn without_computing_times(mut v: Value) -> Value {
    if let Some(s) = v["summary"].as_object_mut() {
        s.remove("computing_times");
    }
    v
}

fn without_location_index(mut v: Value) -> Value {
    for r in v["routes"].as_array_mut().unwrap() {
        for s in r["steps"].as_array_mut().unwrap() {
            s.as_object_mut().unwrap().remove("location_index");
        }
    }
    v
}

/// Example 2 (a custom matrix) is answered as VROOM 1.15.2 answers it (recorded through
/// pyvroom), every field and figure but the computing times, and as VROOM's documentation
/// shows it (which predates `location_index` in the steps).
#[test]
fn example_2_is_answered_exactly_as_vroom_answers_it() {
    let (code, ours) = solve_file(&data("example_2.json"));
    assert_eq!(code, Some(0));
    let computing = &ours["summary"]["computing_times"];
    assert!(computing["loading"].is_u64() && computing["solving"].is_u64());
    let ours = without_computing_times(ours);
    assert_eq!(
        ours,
        without_computing_times(read("example_2_vroom-1.15.2.json"))
    );
    assert_eq!(without_location_index(ours), read("example_2_sol.json"));
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Task ids per vehicle, as `type:id`, in order.
fn served(v: &Value) -> Vec<(u64, Vec<String>)> {
    v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let steps = r["steps"].as_array().unwrap().iter();
            let ids = steps
                .filter(|s| !matches!(s["type"].as_str(), Some("start" | "end")))
                .map(|s| format!("{}:{}", s["type"].as_str().unwrap(), s["id"]))
                .collect();
            (r["vehicle"].as_u64().unwrap(), ids)
        })
        .collect()
}

/// Example 1 at twice the straight-line estimate's speed: VROOM's times come from its road
/// engine, faster than 8 m/s along 1.3 x the straight line, at which the shipment and
/// vehicle 2's other stops would not fit its four hours.
fn example_1_fast() -> String {
    let mut v = read("example_1.json");
    for vehicle in v["vehicles"].as_array_mut().unwrap() {
        vehicle["speed_factor"] = json!(2.0);
    }
    let dir = std::env::temp_dir().join(format!("planner-vroom-1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("example_1.json");
    std::fs::write(&path, v.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn example_1_is_answered_with_vrooms_fields_and_constraints() {
    let (code, ours) = solve_file(&example_1_fast());
    assert_eq!(code, Some(0));
    let theirs = read("example_1_sol.json");
    // The same fields at every level (VROOM's road geometry is not computed here).
    let mut summary = keys(&ours["summary"]);
    summary.remove("computing_times");
    assert_eq!(summary, keys(&theirs["summary"]));
    let step_keys = |v: &Value| -> BTreeSet<(String, BTreeSet<String>)> {
        v["routes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["steps"].as_array().unwrap().iter())
            .map(|s| (s["type"].as_str().unwrap().to_owned(), keys(s)))
            .collect()
    };
    assert_eq!(step_keys(&ours), step_keys(&theirs));
    for (a, b) in ours["routes"]
        .as_array()
        .unwrap()
        .iter()
        .zip(theirs["routes"].as_array().unwrap())
    {
        assert_eq!(keys(a), keys(b));
    }
    // Everything served; the figures that do not depend on the roads are VROOM's.
    assert_eq!(ours["unassigned"], json!([]));
    for key in [
        "routes",
        "unassigned",
        "delivery",
        "pickup",
        "service",
        "priority",
    ] {
        assert_eq!(ours["summary"][key], theirs["summary"][key], "{key}");
    }
    // Skills: jobs 1 and 2 need vehicle 1, the shipment vehicle 2 (pickup 4 first, with
    // vehicle 2's break).
    let routes = served(&ours);
    let on = |vehicle: u64| {
        routes
            .iter()
            .find(|(v, _)| *v == vehicle)
            .map(|(_, ids)| ids.clone())
            .unwrap_or_default()
    };
    let (one, two) = (on(1), on(2));
    assert!(
        one.contains(&"job:1".into()) && one.contains(&"job:2".into()),
        "{one:?}"
    );
    let pos = |id: &str| two.iter().position(|x| x == id).unwrap();
    assert!(pos("pickup:4") < pos("delivery:3"), "{two:?}");
    assert!(two.contains(&"break:2".into()));
    // Job 1's window and each step's arithmetic: arrival + waiting + service, then travel.
    for r in ours["routes"].as_array().unwrap() {
        let steps = r["steps"].as_array().unwrap();
        for s in steps {
            if s["type"] == "job" && s["id"] == 1 {
                let start = s["arrival"].as_i64().unwrap() + s["waiting_time"].as_i64().unwrap();
                assert!((1600419600..=1600423200).contains(&start), "{s}");
            }
        }
        let last = steps.last().unwrap();
        assert_eq!(last["duration"], r["duration"]);
        assert_eq!(last["distance"], r["distance"]);
    }
}

#[test]
fn the_door_solution_passes_the_planners_checker() {
    let text = std::fs::read_to_string(example_1_fast()).unwrap();
    let vp = vroom::parse(&text, None).unwrap();
    assert_eq!(vp.problem.jobs.len(), 4);
    assert_eq!(vp.problem.shipments.len(), 1);
    let s = planner::solve(
        &vp.problem,
        &planner::SolveOptions {
            objective: vp.objective,
            iterations: Some(300),
            threads: 1,
            ..Default::default()
        },
    )
    .unwrap();
    planner::check(&vp.problem, &s).unwrap();
    assert!(s.unassigned.is_empty(), "{:?}", s.unassigned);
}

/// One edit of a valid problem.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn what_the_planner_cannot_honour_is_refused_with_code_2() {
    let base = read("example_2.json");
    let cases: Vec<(&str, Change)> = vec![
        (
            "open routes",
            Box::new(|v| {
                v["vehicles"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("end_index");
            }),
        ),
        ("setup", Box::new(|v| v["jobs"][0]["setup"] = json!(60))),
        (
            "outside the matrix",
            Box::new(|v| v["jobs"][0]["location_index"] = json!(9)),
        ),
        (
            "duplicate job id",
            Box::new(|v| v["jobs"][1]["id"] = json!(1414)),
        ),
        (
            "max_travel_time",
            Box::new(|v| v["vehicles"][0]["max_travel_time"] = json!(100)),
        ),
    ];
    let dir = std::env::temp_dir().join(format!("planner-vroom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (words, change) in cases {
        let mut v = base.clone();
        change(&mut v);
        let path = dir.join("p.json");
        std::fs::write(&path, v.to_string()).unwrap();
        let (code, answer) = solve_file(path.to_str().unwrap());
        assert_eq!(code, Some(2), "{words}: {answer}");
        assert_eq!(answer["code"], 2, "{words}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(words), "{words}: {error}");
    }
}

#[test]
fn max_tasks_caps_each_route() {
    let mut v = read("example_2.json");
    v["vehicles"][0]["max_tasks"] = json!(1);
    v["vehicles"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": 7, "start_index": 0, "end_index": 3}));
    let vp = vroom::parse(&v.to_string(), None).unwrap();
    let s = planner::solve(
        &vp.problem,
        &planner::SolveOptions {
            iterations: Some(200),
            threads: 1,
            ..Default::default()
        },
    )
    .unwrap();
    planner::check(&vp.problem, &s).unwrap();
    let capped = s.routes.iter().find(|r| r.vehicle == 0);
    assert!(capped.is_none_or(|r| r.stops.len() <= 1));
    assert!(s.unassigned.is_empty());
    // A route breaking the cap is refused by the checker: both jobs on vehicle 0.
    let (both, _) = planner::retime_solution(&vp.problem, &[(0, vec![0, 1])]).unwrap();
    let rules: Vec<_> = planner::check(&vp.problem, &both)
        .unwrap_err()
        .into_iter()
        .map(|v| v.kind)
        .collect();
    assert!(rules.contains(&planner::CheckRule::MaxTasks), "{rules:?}");
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http(addr: &str, request: &str) -> (u16, Value) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    (status, serde_json::from_str(body).unwrap())
}

fn post(addr: &str, body: &str) -> (u16, Value) {
    http(
        addr,
        &format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn serve_answers_as_vroom_express() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_planner"))
        .args(["serve", "--bind", "127.0.0.1:0", "--time-limit", "0.5"])
        .args(["--concurrent", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _served = Served(child);
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();

    let problem = std::fs::read_to_string(data("example_2.json")).unwrap();
    let (status, answer) = post(&addr, &problem);
    assert_eq!(status, 200);
    assert_eq!(
        without_computing_times(answer),
        without_computing_times(read("example_2_vroom-1.15.2.json"))
    );

    // Two at once with room for one: the second waits its turn, both are answered.
    let both: Vec<_> = (0..2)
        .map(|_| {
            let (addr, problem) = (addr.clone(), problem.clone());
            std::thread::spawn(move || post(&addr, &problem).0)
        })
        .collect();
    for t in both {
        assert_eq!(t.join().unwrap(), 200);
    }

    let (status, answer) = post(&addr, "{\"jobs\": []}");
    assert_eq!(status, 400);
    assert_eq!(answer["code"], 2);
    assert!(answer["error"].as_str().unwrap().contains("vehicles"));

    let (status, _) = http(
        &addr,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    let (status, answer) = http(
        &addr,
        "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 404);
    assert_eq!(answer["code"], 2);
}

/// Coordinates and a road service that is down: VROOM's routing error, code 3.
#[test]
fn a_road_service_that_is_down_is_a_routing_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_planner"))
        .args(["solve", &data("example_1.json"), "--format", "vroom"])
        .args([
            "--osrm",
            &format!("http://127.0.0.1:{port}"),
            "--iterations",
            "10",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["code"], 3);
    assert!(answer["error"].as_str().unwrap().contains("did not answer"));
}
