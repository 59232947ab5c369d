//! Solomon VRPTW text format (CRLF or LF): name, `VEHICLE` section (number, capacity),
//! `CUSTOMER` section (id, x, y, demand, ready, due, service); customer 0 is the depot.
//! Travel is Euclidean (time = distance), unrounded.

use super::ReadError;
use crate::model::*;

pub fn parse(text: &str) -> Result<Problem, ReadError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let at = |line: usize, message: &str| ReadError::At {
        line,
        message: message.to_string(),
    };
    let find = |word: &str| {
        lines
            .iter()
            .position(|(_, l)| l.to_ascii_uppercase().starts_with(word))
    };
    let nums = |(line, l): (usize, &str)| -> Result<Vec<f64>, ReadError> {
        l.split_whitespace()
            .map(|t| {
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| at(line, &format!("expected a number, found {t:?}")))
            })
            .collect()
    };
    let v = find("VEHICLE").ok_or_else(|| ReadError::Other("no VEHICLE section".into()))?;
    // VEHICLE, NUMBER CAPACITY header, then the values.
    let &(vl, vline) = lines
        .get(v + 2)
        .ok_or_else(|| at(lines[v].0, "VEHICLE section ends early"))?;
    let fleet = nums((vl, vline))?;
    let [k, q] = fleet[..] else {
        return Err(at(vl, "expected vehicle number and capacity"));
    };
    if !(1.0..=100_000.0).contains(&k)
        || k.fract() != 0.0
        || q < 0.0
        || q.fract() != 0.0
        || q > i32::MAX as f64
    {
        return Err(at(
            vl,
            "vehicle number and capacity must be non-negative integers",
        ));
    }
    let c = find("CUSTOMER").ok_or_else(|| ReadError::Other("no CUSTOMER section".into()))?;
    let mut rows = Vec::new();
    for &(line, l) in lines.iter().skip(c + 1) {
        if l.to_ascii_uppercase().starts_with("CUST") {
            continue; // column header
        }
        let r = nums((line, l))?;
        if r.len() != 7 {
            return Err(at(line, &format!("expected 7 columns, found {}", r.len())));
        }
        if r[3] < 0.0 || r[3].fract() != 0.0 || r[3] > i32::MAX as f64 {
            return Err(at(line, "demand must be a non-negative integer"));
        }
        if r[4] > r[5] {
            return Err(at(line, "ready time after due date"));
        }
        if r[6] < 0.0 {
            return Err(at(line, "negative service time"));
        }
        rows.push((line, r));
    }
    let Some((_, depot)) = rows.first() else {
        return Err(ReadError::Other("no depot row".into()));
    };
    let depot_loc = Location {
        lat: depot[2],
        lon: depot[1],
    };
    let shift = TimeWindow::new(depot[4], depot[5]);
    let mut ids = std::collections::HashSet::new();
    let mut jobs = Vec::new();
    for (line, r) in rows.iter().skip(1) {
        let id = format!("{}", r[0]);
        if !ids.insert(id.clone()) {
            return Err(at(*line, &format!("duplicate customer {id}")));
        }
        jobs.push(Job {
            id,
            location: Location {
                lat: r[2],
                lon: r[1],
            },
            service: r[6],
            time_windows: vec![TimeWindow::new(r[4], r[5])],
            delivery: vec![r[3] as i32],
            pickup: vec![0],
            skills: Vec::new(),
            priority: 0,
        });
    }
    let vehicles = super::fleet(k as usize, q as i32, depot_loc, shift);
    Ok(Problem {
        jobs,
        shipments: Vec::new(),
        vehicles,
        travel: TravelSpec::Euclidean { speed: 1.0 },
    })
}
