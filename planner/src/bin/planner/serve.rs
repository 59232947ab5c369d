//! `planner serve`: VROOM's format over HTTP in the shape of vroom-express, so that a VROOM
//! user changes only the URL: `POST /` with the problem answers the solution (200) or
//! `{"code", "error"}` (400 for the problem, 500 for the planner); `GET /health` answers 200.

use planner::io::vroom;
use planner::SolveOptions;
use serde_json::Value;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tiny_http::{Header, Method, Request, Response, Server};

/// What every request is solved with.
pub struct Settings {
    pub time_limit: Duration,
    pub threads: usize,
    pub osrm: Option<String>,
    /// Requests larger than this are refused (413).
    pub max_body: usize,
    /// Problems solved at once; more wait their turn (each solve uses every core).
    pub concurrent: usize,
}

/// Lets at most a fixed number of solves run at once.
struct Gate {
    running: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

impl Gate {
    fn enter(&self) -> GatePass<'_> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= self.limit {
            running = self.freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        GatePass(self)
    }
}

struct GatePass<'a>(&'a Gate);

impl Drop for GatePass<'_> {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        self.0.freed.notify_one();
    }
}

/// Serves until the process ends; prints `listening on ADDR` once bound.
pub fn run(bind: &str, settings: Settings) -> Result<(), String> {
    let server = Server::http(bind).map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    match server.server_addr().to_ip() {
        Some(addr) => announce(addr),
        None => println!("listening on {bind}"),
    }
    let gate = Arc::new(Gate {
        running: Mutex::new(0),
        freed: Condvar::new(),
        limit: settings.concurrent.max(1),
    });
    let settings = Arc::new(settings);
    for request in server.incoming_requests() {
        let (settings, gate) = (Arc::clone(&settings), Arc::clone(&gate));
        // One thread per request: a long solve must not hold up a health check.
        std::thread::spawn(move || answer(request, &settings, &gate));
    }
    Ok(())
}

fn announce(addr: SocketAddr) {
    use std::io::Write;
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
}

fn json_response(status: u16, body: &Value) -> Response<std::io::Cursor<Vec<u8>>> {
    let header = Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
        .unwrap_or_else(|_| unreachable!("a constant header is valid"));
    Response::from_string(body.to_string())
        .with_status_code(status)
        .with_header(header)
}

fn answer(mut request: Request, settings: &Settings, gate: &Gate) {
    let (status, body) = match (request.method(), request.url()) {
        (Method::Get, "/health") => (200, serde_json::json!({"status": "ok"})),
        (Method::Post, "/") => {
            let _pass = gate.enter();
            solve(&mut request, settings)
        }
        (_, "/" | "/health") => (405, vroom::error(vroom::INPUT_ERROR, "method not allowed")),
        _ => (404, vroom::error(vroom::INPUT_ERROR, "not found")),
    };
    // The client may have gone; nothing more to do then.
    let _ = request.respond(json_response(status, &body));
}

fn solve(request: &mut Request, settings: &Settings) -> (u16, Value) {
    let t0 = Instant::now();
    let mut text = String::new();
    let read = request
        .as_reader()
        .take(settings.max_body as u64 + 1)
        .read_to_string(&mut text);
    if read.is_err() {
        return (
            400,
            vroom::error(vroom::INPUT_ERROR, "the body is not UTF-8 text"),
        );
    }
    if text.len() > settings.max_body {
        return (
            413,
            vroom::error(
                vroom::INPUT_ERROR,
                &format!("the problem is larger than {} bytes", settings.max_body),
            ),
        );
    }
    let mut vp = match vroom::parse(&text, settings.osrm.as_deref()) {
        Ok(vp) => vp,
        Err(e) => return (400, vroom::error(vroom::INPUT_ERROR, &e.to_string())),
    };
    if let Err(e) = vp.fetch_roads() {
        return (500, vroom::error(vroom::ROUTING_ERROR, &e.to_string()));
    }
    let loaded = t0.elapsed();
    let opts = SolveOptions {
        objective: vp.objective,
        time_limit: Some(settings.time_limit),
        threads: settings.threads,
        ..Default::default()
    };
    match planner::solve(&vp.problem, &opts) {
        Ok(sol) => {
            let solving = t0.elapsed() - loaded;
            (
                200,
                vroom::to_json(&vp, &sol, (loaded.as_millis(), solving.as_millis())),
            )
        }
        Err(e @ planner::PlanError::Travel(_)) => {
            (500, vroom::error(vroom::ROUTING_ERROR, &e.to_string()))
        }
        Err(e) => (400, vroom::error(vroom::INPUT_ERROR, &e.to_string())),
    }
}
