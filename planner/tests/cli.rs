#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `planner` binary's contract: one JSON object on stdout that `planner check` accepts,
//! tampered ones it refuses, clear errors, generator.

use std::process::Command;

fn planner() -> Command {
    Command::new(env!("CARGO_BIN_EXE_planner"))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("planner-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `planner check PROBLEM SOLUTION` on `solution` written to a file: (exit code, stdout).
fn check(problem: &str, solution: &serde_json::Value, dir: &std::path::Path) -> (i32, String) {
    let f = dir.join("solution.json");
    std::fs::write(&f, solution.to_string()).unwrap();
    let out = planner()
        .args(["check", problem, f.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code().unwrap(), stdout)
}

/// `planner solve FILE` with a small budget on one thread.
fn solve_briefly(file: &std::path::Path) -> std::process::Output {
    planner()
        .args([
            "solve",
            file.to_str().unwrap(),
            "--iterations",
            "200",
            "--threads",
            "1",
        ])
        .output()
        .unwrap()
}

#[test]
fn solve_solomon_prints_one_json_object_that_check_accepts() {
    let file = format!("{}/data/solomon/C101.txt", env!("CARGO_MANIFEST_DIR"));
    let out = planner()
        .args([
            "solve",
            &file,
            "--iterations",
            "300",
            "--seed",
            "3",
            "--threads",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let routes = v["routes"].as_array().unwrap();
    assert_eq!(v["vehicles"].as_u64().unwrap() as usize, routes.len());
    let mut ids: Vec<u64> = routes
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()))
        .collect();
    ids.sort();
    assert_eq!(ids, (1..=100).collect::<Vec<u64>>());
    assert!(v["unassigned"].as_array().unwrap().is_empty());
    assert!(v["wall_s"].as_f64().is_some());
    assert_eq!(v["schedule"].as_array().unwrap().len(), routes.len());

    // The independent checker accepts it as printed, and as routes of ids alone.
    let dir = temp_dir("check");
    let (code, said) = check(&file, &v, &dir);
    assert_eq!(code, 0, "{said}");
    let vehicles = format!("feasible: {} vehicles, distance", routes.len());
    assert!(
        said.starts_with(&vehicles) && said.lines().count() == 1,
        "{said}"
    );
    let mut ids_only = v.clone();
    ids_only.as_object_mut().unwrap().remove("schedule");
    let (code, said) = check(&file, &ids_only, &dir);
    assert_eq!(code, 0, "{said}");

    // A job taken off its route (and off the routes' list): not served, not unassigned.
    let mut t = v.clone();
    let job = t["routes"][0].as_array_mut().unwrap().remove(0);
    t["schedule"][0]["stops"].as_array_mut().unwrap().remove(0);
    let (code, said) = check(&file, &t, &dir);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(&format!("job {job} is neither served nor unassigned")),
        "{said}"
    );
    // A stated distance changed, with and without the schedule.
    for mut t in [v.clone(), ids_only.clone()] {
        let d = t["distance"].as_f64().unwrap();
        t["distance"] = (d + 1.0).into();
        let (code, said) = check(&file, &t, &dir);
        assert_eq!(code, 1, "{said}");
        let stated = format!("states total distance {} but it is ", d + 1.0);
        assert!(
            said.starts_with(&stated) && said.lines().count() == 1,
            "{said}"
        );
    }
    // A stop time changed.
    let mut t = v.clone();
    let a = t["schedule"][1]["stops"][2]["arrival"].as_f64().unwrap();
    t["schedule"][1]["stops"][2]["arrival"] = (a + 0.5).into();
    let (code, said) = check(&file, &t, &dir);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.starts_with("route 1, stop 2: states arrival"),
        "{said}"
    );
    // A job the problem does not have.
    let mut t = ids_only.clone();
    t["routes"][0].as_array_mut().unwrap().push(101.into());
    let (code, said) = check(&file, &t, &dir);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("unknown job id 101"), "{said}");
}

#[test]
fn check_refuses_unreadable_files() {
    let file = format!("{}/data/solomon/C101.txt", env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("check-bad");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\n \"routes\": [[1, 2]\n").unwrap();
    let out = planner()
        .args(["check", &file, bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");
    std::fs::write(
        &bad,
        "{\"routes\": [[1, 2]], \"unassigned\": [{\"id\": 3, \"reason\": \"bored\"}]}",
    )
    .unwrap();
    let out = planner()
        .args(["check", &file, bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unassigned[0].reason"), "{err}");
    for args in [
        ["check", "/nonexistent/problem", bad.to_str().unwrap()],
        ["check", &file, "/nonexistent/solution"],
    ] {
        let out = planner().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
    }
}

#[test]
fn time_limit_bounds_the_run() {
    let file = format!("{}/data/solomon/R101.txt", env!("CARGO_MANIFEST_DIR"));
    let t = std::time::Instant::now();
    let out = planner()
        .args([
            "solve",
            &file,
            "--time-limit",
            "0.3",
            "--objective",
            "distance",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    // Generous: only guards against ignoring the limit, not a timing assertion.
    assert!(t.elapsed().as_secs_f64() < 5.0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["routes"].as_array().unwrap().is_empty());
}

#[test]
fn bad_files_give_a_line_number_and_fail() {
    let dir = std::env::temp_dir().join(format!("planner-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.txt");
    std::fs::write(
        &bad,
        "X\r\n\r\nVEHICLE\r\nNUMBER CAPACITY\r\n 2 10\r\n\r\nCUSTOMER\r\nCUST NO. ...\r\n 0 0 0 0 0 100 0\r\n 1 1 1 oops 0 100 0\r\n",
    )
    .unwrap();
    let out = planner()
        .args(["solve", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 10"), "{err}");
    let bad_json = dir.join("bad.json");
    std::fs::write(&bad_json, "{\n \"jobs\": [\n  {\"id\": 1}\n ]\n}\n").unwrap();
    let out = planner()
        .args(["solve", bad_json.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");
    let missing = planner()
        .args(["solve", "/nonexistent/file"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
}

#[test]
fn generate_then_solve_json() {
    let out = planner()
        .args(["generate", "--jobs", "80", "--couriers", "5", "--seed", "2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let p: planner::Problem = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p.jobs.len(), 80);
    assert_eq!(p.vehicles.len(), 5);
    let dir = temp_dir("gen");
    let f = dir.join("day.json");
    std::fs::write(&f, &out.stdout).unwrap();
    let out = solve_briefly(&f);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let served: usize = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().len())
        .sum();
    assert_eq!(served + v["unassigned"].as_array().unwrap().len(), 80);
    assert!(v["routes"][0][0].is_string());
    // Breaks, two dimensions, string ids: the checker accepts it.
    let (code, said) = check(f.to_str().unwrap(), &v, &dir);
    assert_eq!(code, 0, "{said}");
}

#[test]
fn generate_a_solomon_like_instance_then_solve_it_as_solomon() {
    let out = planner()
        .args([
            "generate",
            "--solomon-like",
            "rc2",
            "--customers",
            "120",
            "--seed",
            "5",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("RC2-like-120-5"), "{text}");
    let dir = temp_dir("solomon-like");
    let f = dir.join("rc2.txt");
    std::fs::write(&f, &text).unwrap();
    let out = solve_briefly(&f);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let solution: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (code, summary) = check(f.to_str().unwrap(), &solution, &dir);
    assert_eq!(code, 0, "{summary}");

    // A class it does not know, and a size without a class, are refused.
    for args in [
        &["generate", "--solomon-like", "r3"][..],
        &["generate", "--customers", "100"][..],
        &["generate", "--solomon-like", "r1", "--jobs", "5"][..],
    ] {
        let out = planner().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn generated_day_is_feasible_by_the_checker() {
    let p = planner::generate::city_day(150, 6, 9);
    let o = planner::SolveOptions {
        iterations: Some(300),
        threads: 2,
        ..Default::default()
    };
    let s = planner::solve(&p, &o).unwrap();
    planner::check(&p, &s).unwrap();
    assert!(s.unassigned.len() <= 3, "{:?}", s.unassigned);
}

#[test]
fn every_objective_is_chosen_by_name_and_checked() {
    let out = planner()
        .args(["generate", "--jobs", "60", "--couriers", "5", "--seed", "4"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = temp_dir("objectives");
    let f = dir.join("day.json");
    std::fs::write(&f, &out.stdout).unwrap();
    let f = f.to_str().unwrap();
    let mut longest = Vec::new();
    for objective in [
        "distance",
        "cost",
        "balanced",
        "earliest_finish",
        "fewest_couriers",
        "hierarchical",
    ] {
        let out = planner()
            .args(["solve", f, "--objective", objective])
            .args(["--iterations", "800", "--threads", "1"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{objective}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let (code, said) = check(f, &v, &dir);
        assert_eq!(code, 0, "{objective}: {said}");
        let days = v["schedule"].as_array().unwrap().iter();
        longest.push(
            days.map(|r| r["duration"].as_f64().unwrap())
                .fold(0.0, f64::max),
        );
    }
    // Balanced days: the longest is shorter than under the distance or the cost objective.
    assert!(
        longest[2] < longest[0] && longest[2] < longest[1],
        "{longest:?}"
    );

    let out = planner()
        .args(["solve", f, "--objective", "cheapest"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8(out.stderr).unwrap();
    assert!(said.contains("earliest_finish"), "{said}");
}
