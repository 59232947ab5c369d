//! Li & Lim PDPTW text format: a first line `vehicles capacity speed`, then one line per
//! task `id x y demand ready due service pickup delivery`; task 0 is the depot. A pickup
//! (positive demand) names its delivery in the last column; a delivery (negative demand)
//! names its pickup in the one before. Travel is Euclidean (time = distance, the speed
//! column is not used by the benchmark's convention), unrounded. Each pair becomes a
//! shipment named by its pickup's number; its steps keep their task numbers as ids.

use super::ReadError;
use crate::model::*;
use std::collections::HashMap;

/// Whether `text` looks like a Li & Lim file: a first line of three numbers.
pub fn detect(text: &str) -> bool {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    first.is_some_and(|l| {
        let tokens: Vec<&str> = l.split_whitespace().collect();
        tokens.len() == 3 && tokens.iter().all(|t| t.parse::<f64>().is_ok())
    })
}

struct Row {
    line: usize,
    id: u64,
    location: Location,
    demand: i64,
    window: TimeWindow,
    service: f64,
    pickup: u64,
    delivery: u64,
}

pub fn parse(text: &str) -> Result<Problem, ReadError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let at = |line: usize, message: String| ReadError::At { line, message };
    let nums = |line: usize, l: &str| -> Result<Vec<f64>, ReadError> {
        l.split_whitespace()
            .map(|t| {
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| at(line, format!("expected a number, found {t:?}")))
            })
            .collect()
    };
    let whole = |x: f64| x.fract() == 0.0 && x.abs() <= i32::MAX as f64;
    let (hl, header) = lines
        .next()
        .ok_or_else(|| ReadError::Other("empty file".into()))?;
    let fleet = nums(hl, header)?;
    let [k, q, _speed] = fleet[..] else {
        return Err(at(hl, "expected vehicles, capacity and speed".into()));
    };
    if !(1.0..=100_000.0).contains(&k) || !whole(k) || q < 0.0 || !whole(q) {
        return Err(at(
            hl,
            "vehicles and capacity must be non-negative integers".into(),
        ));
    }
    let mut rows = Vec::new();
    for (line, l) in lines {
        let r = nums(line, l)?;
        if r.len() != 9 {
            return Err(at(line, format!("expected 9 columns, found {}", r.len())));
        }
        if [r[0], r[3], r[7], r[8]].iter().any(|&x| !whole(x)) || r[0] < 0.0 {
            return Err(at(line, "ids and demand must be integers".into()));
        }
        if r[7] < 0.0 || r[8] < 0.0 {
            return Err(at(line, "negative sibling index".into()));
        }
        if r[4] > r[5] {
            return Err(at(line, "ready time after due date".into()));
        }
        if r[6] < 0.0 {
            return Err(at(line, "negative service time".into()));
        }
        rows.push(Row {
            line,
            id: r[0] as u64,
            location: Location {
                lat: r[2],
                lon: r[1],
            },
            demand: r[3] as i64,
            window: TimeWindow::new(r[4], r[5]),
            service: r[6],
            pickup: r[7] as u64,
            delivery: r[8] as u64,
        });
    }
    let Some(depot) = rows.first() else {
        return Err(ReadError::Other("no depot row".into()));
    };
    let (depot_loc, shift) = (depot.location, depot.window);
    let mut by_id: HashMap<u64, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate().skip(1) {
        if r.id == 0 || by_id.insert(r.id, i).is_some() {
            return Err(at(r.line, format!("duplicate task {}", r.id)));
        }
    }
    let step = |r: &Row| ShipmentStep {
        id: Some(r.id.to_string()),
        location: r.location,
        service: r.service,
        time_windows: vec![r.window],
        pickup: Vec::new(),
    };
    let mut shipments = Vec::new();
    for r in rows.iter().skip(1) {
        match (r.pickup, r.delivery) {
            (0, d) if d > 0 => {
                let Some(&di) = by_id.get(&d) else {
                    return Err(at(r.line, format!("delivery {d} does not exist")));
                };
                let del = &rows[di];
                if del.pickup != r.id || del.delivery != 0 {
                    return Err(at(
                        del.line,
                        format!("task {d} does not name {} as its pickup", r.id),
                    ));
                }
                if r.demand < 0 || del.demand != -r.demand {
                    return Err(at(
                        r.line,
                        format!("pickup {} and delivery {d} carry different amounts", r.id),
                    ));
                }
                shipments.push(Shipment {
                    id: r.id.to_string(),
                    pickup: step(r),
                    delivery: step(del),
                    amount: vec![r.demand as i32],
                    skills: Vec::new(),
                    priority: 0,
                });
            }
            (p, 0) if p > 0 => {
                let paired = by_id
                    .get(&p)
                    .is_some_and(|&pi| rows[pi].delivery == r.id && rows[pi].pickup == 0);
                if !paired {
                    return Err(at(
                        r.line,
                        format!("pickup {p} does not name {} as its delivery", r.id),
                    ));
                }
            }
            _ => {
                return Err(at(
                    r.line,
                    format!("task {} is neither a pickup nor a delivery", r.id),
                ))
            }
        }
    }
    let vehicles = super::fleet(k as usize, q as i32, depot_loc, shift);
    let p = Problem {
        jobs: Vec::new(),
        shipments,
        vehicles,
        travel: TravelSpec::Euclidean { speed: 1.0 },
    };
    crate::validate(&p).map_err(ReadError::Other)?;
    Ok(p)
}
