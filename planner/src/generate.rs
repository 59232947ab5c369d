//! A realistic city day: jobs scattered around a few dense areas in a city-sized box,
//! 2-hour windows, deliveries and pickups, skills, couriers from a few hubs with breaks.

use crate::model::*;
use crate::rng::Rng;

pub fn city_day(jobs: usize, couriers: usize, seed: u64) -> Problem {
    let mut rng = Rng::new(seed);
    // Lyon-sized box: about 20 x 20 km.
    let (lat0, lon0, dlat, dlon) = (45.76, 4.84, 0.09, 0.13);
    let centres: Vec<(f64, f64)> = (0..6)
        .map(|_| {
            (
                lat0 + (rng.f64() - 0.5) * dlat,
                lon0 + (rng.f64() - 0.5) * dlon,
            )
        })
        .collect();
    let hubs: Vec<Location> = (0..3)
        .map(|_| Location {
            lat: lat0 + (rng.f64() - 0.5) * dlat * 0.6,
            lon: lon0 + (rng.f64() - 0.5) * dlon * 0.6,
        })
        .collect();
    let hour = 3600.0;
    let mut js = Vec::with_capacity(jobs);
    let mut total = [0i64; 2];
    for i in 0..jobs {
        let location = if rng.f64() < 0.6 {
            // Clustered around a centre.
            let (la, lo) = centres[rng.below(centres.len())];
            Location {
                lat: la + (rng.f64() + rng.f64() - 1.0) * dlat * 0.12,
                lon: lo + (rng.f64() + rng.f64() - 1.0) * dlon * 0.12,
            }
        } else {
            Location {
                lat: lat0 + (rng.f64() - 0.5) * dlat,
                lon: lon0 + (rng.f64() - 0.5) * dlon,
            }
        };
        let w0 = 8.0 + rng.below(10) as f64; // 8:00 .. 17:00 starts
        let mut time_windows = vec![TimeWindow::new(w0 * hour, (w0 + 2.0) * hour)];
        if rng.f64() < 0.1 {
            let w1 = (w0 + 3.0 + rng.below(3) as f64).min(18.0);
            if w1 > w0 + 2.0 {
                time_windows.push(TimeWindow::new(w1 * hour, (w1 + 2.0) * hour));
            }
        }
        let load = vec![1 + rng.below(3) as i32, 1 + rng.below(20) as i32];
        let (delivery, pickup) = if rng.f64() < 0.75 {
            (load, vec![0, 0])
        } else {
            (vec![0, 0], load)
        };
        for d in 0..2 {
            total[d] += (delivery[d] + pickup[d]) as i64;
        }
        // One skill at most: every combination asked for exists in the fleet.
        let r = rng.f64();
        let skills = if r < 0.08 {
            vec!["fridge".to_string()]
        } else if r < 0.13 {
            vec!["heavy".to_string()]
        } else {
            Vec::new()
        };
        js.push(Job {
            id: format!("j{}", i + 1),
            location,
            service: 120.0 + rng.below(480) as f64,
            time_windows,
            delivery,
            pickup,
            skills,
            priority: u32::from(rng.f64() < 0.1),
        });
    }
    let m = couriers.max(1);
    let cap = |d: usize| ((total[d] as f64 / m as f64) * 1.8).ceil().max(20.0) as i32;
    let vehicles = (0..couriers)
        .map(|i| {
            let hub = hubs[i % hubs.len()];
            let early = rng.f64() < 0.5;
            let shift = if early {
                TimeWindow::new(7.5 * hour, 17.5 * hour)
            } else {
                TimeWindow::new(9.5 * hour, 19.5 * hour)
            };
            let mut skills = Vec::new();
            if i % 3 == 0 {
                skills.push("fridge".to_string());
            }
            if i % 4 == 1 {
                skills.push("heavy".to_string());
            }
            Vehicle {
                id: format!("c{}", i + 1),
                start: hub,
                end: hub,
                shift,
                capacity: vec![cap(0), cap(1)],
                skills,
                max_duration: None,
                break_: Some(Break {
                    duration: 1800.0,
                    window: TimeWindow::new(12.0 * hour, 14.0 * hour),
                }),
                cost_per_distance: 0.001,
                cost_per_time: 0.005,
                fixed_jobs: Vec::new(),
                max_tasks: None,
            }
        })
        .collect();
    Problem {
        jobs: js,
        shipments: Vec::new(),
        vehicles,
        travel: TravelSpec::Haversine {
            detour: 1.3,
            speed: 8.0,
        },
    }
}

/// The six Solomon classes: customers clustered (`C`), scattered at random (`R`) or half
/// each (`RC`); a short horizon with small vehicles (`1`) or a long one with large (`2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolomonClass {
    C1,
    C2,
    R1,
    R2,
    Rc1,
    Rc2,
}

impl SolomonClass {
    pub const ALL: [SolomonClass; 6] = [
        SolomonClass::C1,
        SolomonClass::C2,
        SolomonClass::R1,
        SolomonClass::R2,
        SolomonClass::Rc1,
        SolomonClass::Rc2,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SolomonClass::C1 => "C1",
            SolomonClass::C2 => "C2",
            SolomonClass::R1 => "R1",
            SolomonClass::R2 => "R2",
            SolomonClass::Rc1 => "RC1",
            SolomonClass::Rc2 => "RC2",
        }
    }

    /// Solomon's horizon on his 100 x 100 grid, the vehicle capacity, the service time and
    /// the range of window widths, per class (read off the 56 instances).
    fn shape(self) -> ClassShape {
        let (horizon, capacity, service, widths) = match self {
            SolomonClass::C1 => (1236.0, 200, 90.0, (40.0, 180.0)),
            SolomonClass::C2 => (3390.0, 700, 90.0, (160.0, 640.0)),
            SolomonClass::R1 => (230.0, 200, 10.0, (10.0, 60.0)),
            SolomonClass::R2 => (1000.0, 1000, 10.0, (60.0, 480.0)),
            SolomonClass::Rc1 => (240.0, 200, 10.0, (10.0, 60.0)),
            SolomonClass::Rc2 => (960.0, 1000, 10.0, (60.0, 480.0)),
        };
        ClassShape {
            horizon,
            capacity,
            service,
            widths,
            clustered: match self {
                SolomonClass::C1 | SolomonClass::C2 => 1.0,
                SolomonClass::R1 | SolomonClass::R2 => 0.0,
                SolomonClass::Rc1 | SolomonClass::Rc2 => 0.5,
            },
        }
    }
}

impl std::str::FromStr for SolomonClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SolomonClass::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown class {s:?}: one of C1, C2, R1, R2, RC1, RC2"))
    }
}

struct ClassShape {
    horizon: f64,
    capacity: i32,
    service: f64,
    widths: (f64, f64),
    /// Share of the customers placed in clusters.
    clustered: f64,
}

/// A Solomon-style VRPTW instance of `customers` customers in Solomon's text format (what
/// `--format solomon` and every peer of the comparison read), in the manner of the
/// Gehring & Homberger extension: the grid's side and the horizon grow with the square root
/// of the size, so neighbours stay as far apart as in Solomon's 100-customer files and the
/// depot as far (relatively) from the edge; capacity, service time, demands and window
/// widths stay Solomon's. Coordinates, demands and windows are integers. Every customer can
/// be served alone: its window opens by the latest start that still gets the vehicle home,
/// and closes no sooner than the vehicle can arrive. The same class, size and seed give the
/// same text.
pub fn solomon_like(class: SolomonClass, customers: usize, seed: u64) -> String {
    let shape = class.shape();
    let mut rng = Rng::new(seed ^ ((class as u64 + 1) << 32));
    let scale = (customers.max(1) as f64 / 100.0).sqrt().max(1.0);
    let side = (100.0 * scale).round();
    let horizon = (shape.horizon * scale).round();
    let depot = ((side / 2.0).round(), (side / 2.0).round());
    // Solomon's clustered files have about ten customers per cluster, spread a few units.
    let clusters: Vec<(f64, f64)> = (0..(customers / 10).max(1))
        .map(|_| {
            (
                5.0 + rng.f64() * (side - 10.0),
                5.0 + rng.f64() * (side - 10.0),
            )
        })
        .collect();
    let mut rows = Vec::with_capacity(customers);
    for id in 1..=customers {
        let (x, y) = if rng.f64() < shape.clustered {
            let (cx, cy) = clusters[rng.below(clusters.len())];
            let spread = 6.0;
            (
                (cx + (rng.f64() + rng.f64() - 1.0) * spread).clamp(0.0, side),
                (cy + (rng.f64() + rng.f64() - 1.0) * spread).clamp(0.0, side),
            )
        } else {
            (rng.f64() * side, rng.f64() * side)
        };
        let (x, y) = (x.round(), y.round());
        let demand = match class {
            SolomonClass::C1 | SolomonClass::C2 => 10 * (1 + rng.below(4) as i32),
            _ => 1 + rng.below(41) as i32,
        };
        let from_depot = ((x - depot.0).powi(2) + (y - depot.1).powi(2)).sqrt();
        // Served alone: arrive by `from_depot`, start by `last_start` to be home in time.
        let first = from_depot.ceil();
        let last_start = (horizon - from_depot - shape.service).floor();
        let (lo, hi) = shape.widths;
        let width = (lo + rng.f64() * (hi - lo)).round();
        let centre = first + rng.f64() * (last_start - first).max(0.0);
        let ready = (centre - width / 2.0).round().clamp(0.0, last_start);
        let due = (ready + width).min(last_start).max(first);
        rows.push((id, x, y, demand, ready, due));
    }
    let vehicles = (customers / 4).max(1);
    let mut out = String::new();
    out.push_str(&format!(
        "{}-like-{customers}-{seed}\n\nVEHICLE\nNUMBER     CAPACITY\n{vehicles:>5} {:>12}\n\n",
        class.name(),
        shape.capacity
    ));
    out.push_str(
        "CUSTOMER\nCUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE TIME\n\n",
    );
    let row = |id: usize, x: f64, y: f64, demand: i32, ready: f64, due: f64, service: f64| {
        format!("{id:>5} {x:>8} {y:>9} {demand:>10} {ready:>10} {due:>10} {service:>10}\n")
    };
    out.push_str(&row(0, depot.0, depot.1, 0, 0.0, horizon, 0.0));
    for (id, x, y, demand, ready, due) in rows {
        out.push_str(&row(id, x, y, demand, ready, due, shape.service));
    }
    out
}
