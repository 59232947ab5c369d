#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Road travel from an OSRM `/table` service: a server speaking OSRM's table protocol is
//! started on a random port; the planner asks it in blocks, retries it, and says clearly
//! when it is down or refuses.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::solve_checked;
use planner::*;

/// What the fake service saw and how it misbehaves.
#[derive(Default)]
struct Seen {
    /// Coordinates per request.
    requests: Vec<usize>,
    /// Answer this many requests with 503 first.
    fail_first: usize,
    /// Answer every request with 400 and OSRM's error body.
    refuse: bool,
}

/// A road that is longer northwards than southwards, so that a symmetric estimate would
/// not pass for it.
fn road(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let metres =
        111_000.0 * ((a.0 - b.0).abs() + (a.1 - b.1).abs()) + if b.1 > a.1 { 250.0 } else { 0.0 };
    (metres / 9.0, metres)
}

fn serve(seen: Arc<Mutex<Seen>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream, &seen);
        }
    });
    url
}

fn answer(mut stream: TcpStream, seen: &Mutex<Seen>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
            break;
        }
    }
    let target = line.split(' ').nth(1).unwrap().to_owned();
    let (path, query) = target.split_once('?').unwrap();
    let coords: Vec<(f64, f64)> = path
        .rsplit('/')
        .next()
        .unwrap()
        .split(';')
        .map(|c| {
            let (lon, lat) = c.split_once(',').unwrap();
            (lon.parse().unwrap(), lat.parse().unwrap())
        })
        .collect();
    let indices = |key: &str| -> Vec<usize> {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap()
            .split(';')
            .map(|i| i.parse().unwrap())
            .collect()
    };
    let (status, body) = {
        let mut seen = seen.lock().unwrap();
        seen.requests.push(coords.len());
        if seen.refuse {
            (
                "400 Bad Request",
                r#"{"code":"TooBig","message":"Too many table coordinates"}"#.to_owned(),
            )
        } else if seen.fail_first > 0 {
            seen.fail_first -= 1;
            ("503 Service Unavailable", String::new())
        } else {
            let (sources, targets) = (indices("sources"), indices("destinations"));
            let table = |pick: fn((f64, f64)) -> f64| {
                sources
                    .iter()
                    .map(|&s| {
                        targets
                            .iter()
                            .map(|&t| pick(road(coords[s], coords[t])))
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            };
            let body = serde_json::json!({
                "code": "Ok",
                "durations": table(|r| r.0),
                "distances": table(|r| r.1),
            });
            ("200 OK", body.to_string())
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn day_on_roads(url: &str) -> Problem {
    let mut p = generate::city_day(130, 5, 3);
    p.travel = TravelSpec::Osrm {
        url: url.to_owned(),
        profile: "car".to_owned(),
    };
    p
}

#[test]
fn road_times_come_in_blocks_and_the_routes_follow_them() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let url = serve(seen.clone());
    let p = day_on_roads(&url);
    let mut resolved = p.clone();
    osrm::resolve(&mut resolved).unwrap();
    // 130 jobs and 5 vehicles' starts and ends: 140 points in blocks of 50, 3 x 3 requests,
    // none with more than 100 coordinates; the 3 on the diagonal send their points once.
    let requests = seen.lock().unwrap().requests.clone();
    assert_eq!(requests.len(), 9, "{requests:?}");
    assert!(requests.iter().all(|&c| c <= 2 * osrm::BLOCK));
    let mut diagonal: Vec<usize> = requests
        .iter()
        .copied()
        .filter(|&c| c <= osrm::BLOCK)
        .collect();
    diagonal.sort_unstable();
    assert_eq!(diagonal, [40, 50, 50], "{requests:?}");
    let TravelSpec::Matrix {
        distances,
        durations,
    } = &resolved.travel
    else {
        panic!("not resolved: {:?}", resolved.travel);
    };
    let at = |i: usize| {
        let l = travel::points(&p)[i];
        // As the request carried them: six decimals.
        (
            format!("{:.6}", l.lon).parse().unwrap(),
            format!("{:.6}", l.lat).parse().unwrap(),
        )
    };
    for (a, b) in [(0, 1), (1, 0), (7, 129), (129, 7), (131, 3), (139, 138)] {
        let (dur, dist) = road(at(a), at(b));
        assert!((durations[a][b] - dur).abs() < 1e-6, "{a}->{b}");
        assert!((distances[a][b] - dist).abs() < 1e-6, "{a}->{b}");
    }

    // Solving the OSRM problem asks the service and plans on its times: the checker, run
    // on the same roads as matrices, accepts the routes.
    let o = SolveOptions {
        objective: Objective::Cost,
        ..common::opts(500)
    };
    let s = solve(&p, &o).unwrap();
    let report = check(&resolved, &s).unwrap();
    assert_eq!(report.unassigned, s.unassigned.len());
    assert!(s.routes.iter().all(|r| !r.stops.is_empty()));
    solve_checked(&resolved, &o);
}

#[test]
fn a_service_that_stumbles_is_asked_again() {
    let seen = Arc::new(Mutex::new(Seen {
        fail_first: 2,
        ..Seen::default()
    }));
    let url = serve(seen.clone());
    let mut p = day_on_roads(&url);
    osrm::resolve(&mut p).unwrap();
    assert!(matches!(p.travel, TravelSpec::Matrix { .. }));
    // Two 503s, then the nine blocks.
    assert_eq!(seen.lock().unwrap().requests.len(), 11);
}

#[test]
fn a_service_that_is_down_or_refuses_is_named_in_the_error() {
    // Nothing listens on a port just released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    let err = match solve(&day_on_roads(&url), &common::opts(10)) {
        Err(PlanError::Travel(e)) => e,
        Err(e) => panic!("not a travel error: {e}"),
        Ok(_) => panic!("solved without roads"),
    };
    assert!(
        err.contains(&url) && err.contains("did not answer after 3 attempts"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(10));

    let seen = Arc::new(Mutex::new(Seen {
        refuse: true,
        ..Seen::default()
    }));
    let url = serve(seen.clone());
    let err = osrm::resolve(&mut day_on_roads(&url)).unwrap_err();
    assert!(err.contains("TooBig"), "{err}");
    // A refusal is not retried.
    assert_eq!(seen.lock().unwrap().requests.len(), 1);
}
