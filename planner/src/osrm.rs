//! Road travel times from an OSRM `/table` service (`travel: {type: "osrm", url, profile}`).
//!
//! The problem's points (jobs, then each vehicle's start and end) are asked for in blocks of
//! at most [`BLOCK`] sources by [`BLOCK`] destinations, so a request never carries more
//! than `2 · BLOCK` coordinates (OSRM's default `--max-table-size` is 100). Each request has
//! a timeout and is retried on a network error or a 5xx answer; anything else, or a pair of
//! points with no road between them, is an error that says which.

use std::time::Duration;

use crate::model::{Location, Problem, TravelSpec};
use crate::travel::{points, MatrixTravel, DENSE_LIMIT};

/// Sources (and destinations) per request.
pub const BLOCK: usize = 50;
/// Attempts per request (the first and two retries).
const ATTEMPTS: u32 = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TIMEOUT: Duration = Duration::from_secs(30);

/// Replaces an OSRM travel specification by the matrices it gives, so that the problem can
/// be stored and re-timed later without asking the service again. Other specifications
/// are left as they are.
pub fn resolve(p: &mut Problem) -> Result<(), String> {
    if let TravelSpec::Osrm { url, profile } = &p.travel {
        let m = fetch(url, profile, &points(p))?;
        p.travel = TravelSpec::Matrix {
            distances: m.distances,
            durations: m.durations,
        };
    }
    Ok(())
}

/// Durations (s) and distances (m) between all `points`, from the service at `url`.
pub fn fetch(url: &str, profile: &str, points: &[Location]) -> Result<MatrixTravel, String> {
    let n = points.len();
    if n > DENSE_LIMIT {
        return Err(format!(
            "OSRM travel: {n} points, at most {DENSE_LIMIT} (a full table is n^2)"
        ));
    }
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        .build();
    let base = url.trim_end_matches('/');
    let mut durations = vec![vec![0.0; n]; n];
    let mut distances = vec![vec![0.0; n]; n];
    for from in (0..n).step_by(BLOCK) {
        let sources: Vec<usize> = (from..n.min(from + BLOCK)).collect();
        for to in (0..n).step_by(BLOCK) {
            let targets: Vec<usize> = (to..n.min(to + BLOCK)).collect();
            let (dur, dist) = block(&agent, base, profile, points, &sources, &targets)?;
            for (i, &a) in sources.iter().enumerate() {
                for (k, &b) in targets.iter().enumerate() {
                    durations[a][b] = dur[i][k];
                    distances[a][b] = dist[i][k];
                }
            }
        }
    }
    Ok(MatrixTravel {
        distances,
        durations,
    })
}

type Block = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// One `/table` request: the sources' coordinates then the targets' (once when they are
/// the same points, the blocks on the diagonal).
fn block(
    agent: &ureq::Agent,
    base: &str,
    profile: &str,
    points: &[Location],
    sources: &[usize],
    targets: &[usize],
) -> Result<Block, String> {
    let same = sources == targets;
    let sent: &[usize] = if same { &[] } else { targets };
    let coords: Vec<String> = sources
        .iter()
        .chain(sent)
        .map(|&i| format!("{:.6},{:.6}", points[i].lon, points[i].lat))
        .collect();
    let list =
        |range: std::ops::Range<usize>| range.map(|i| i.to_string()).collect::<Vec<_>>().join(";");
    let s = sources.len();
    let first_target = if same { 0 } else { s };
    let url = format!(
        "{base}/table/v1/{profile}/{}?sources={}&destinations={}&annotations=duration,distance",
        coords.join(";"),
        list(0..s),
        list(first_target..first_target + targets.len()),
    );
    let body = get(agent, base, &url)?;
    let answer: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| format!("OSRM at {base}: an answer that is not JSON ({e})"))?;
    if answer["code"] != "Ok" {
        return Err(format!(
            "OSRM at {base}: {} ({})",
            answer["code"].as_str().unwrap_or("no code"),
            answer["message"].as_str().unwrap_or("no message")
        ));
    }
    let matrix = |key: &str| -> Result<Vec<Vec<f64>>, String> {
        let rows = answer[key]
            .as_array()
            .filter(|rows| rows.len() == s)
            .ok_or_else(|| format!("OSRM at {base}: no {key} table of {s} rows"))?;
        rows.iter()
            .enumerate()
            .map(|(i, row)| {
                let row = row
                    .as_array()
                    .filter(|r| r.len() == targets.len())
                    .ok_or_else(|| format!("OSRM at {base}: a {key} row of the wrong length"))?;
                row.iter()
                    .enumerate()
                    .map(|(k, x)| {
                        x.as_f64()
                            .filter(|x| x.is_finite() && *x >= 0.0)
                            .ok_or_else(|| {
                                format!(
                                    "OSRM at {base}: no road from point {} to point {}",
                                    sources[i], targets[k]
                                )
                            })
                    })
                    .collect()
            })
            .collect()
    };
    Ok((matrix("durations")?, matrix("distances")?))
}

/// The body of a GET, retried on network errors and 5xx answers.
fn get(agent: &ureq::Agent, base: &str, url: &str) -> Result<String, String> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200 << attempt));
        }
        match agent.get(url).call() {
            Ok(answer) => {
                return answer
                    .into_string()
                    .map_err(|e| format!("OSRM at {base}: the answer could not be read ({e})"))
            }
            Err(ureq::Error::Status(code, answer)) if code < 500 => {
                // OSRM explains a refused query in its body (`TooBig`, `InvalidQuery`...).
                let said = answer.into_string().unwrap_or_default();
                return Err(format!(
                    "OSRM at {base} refused the table query ({code}): {said}"
                ));
            }
            Err(ureq::Error::Status(code, _)) => last = format!("answered {code}"),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "OSRM at {base} did not answer after {ATTEMPTS} attempts: {last}"
    ))
}
