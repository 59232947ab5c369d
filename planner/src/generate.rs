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
