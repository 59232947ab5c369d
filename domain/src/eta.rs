//! Live ETAs: the rest of a courier's day re-timed from what actually happened.
//!
//! A published route is a forecast. Once the courier reports (left for a stop, arrived,
//! finished) or his phone sends a position, the remaining stops are timed again from there
//! with the plan's own legs and service times: the planned travel between two stops is the
//! planned arrival at the second less the planned departure from the first (the planner
//! waits at arrival, never on the way), the service time is the planned departure less the
//! planned start. One pass over the stops: O(stops).
//!
//! Service starts at the earliest window start at or after the arrival among the windows
//! still open; an arrival after every window starts on arrival (as the planner's re-timing
//! does). A stop is *delayed* when its estimated arrival passes the end of the window it
//! was promised in (the one its planned start falls in), less a margin, so the customer
//! hears of it before it happens.

use chrono::{Duration, NaiveDate, NaiveDateTime};

/// Where a stop stands, from the courier's reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Not started.
    Ahead,
    /// He left for it at this time.
    OnTheWay(NaiveDateTime),
    /// He is there since this time.
    Arrived(NaiveDateTime),
    /// The visit ended (done or failed) at this time.
    Over(NaiveDateTime),
}

/// A stop of a published route as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStop {
    pub arrival: NaiveDateTime,
    pub start: NaiveDateTime,
    pub departure: NaiveDateTime,
    /// The customer's windows, sorted by start; empty for the break and for a visit
    /// any time of the day.
    pub windows: Vec<(NaiveDateTime, NaiveDateTime)>,
    /// The break: it is taken where the courier is, not before its planned start when it
    /// was planned to wait for its window.
    pub is_break: bool,
    pub progress: Progress,
}

/// The day's route as planned, with where each stop stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRoute {
    /// Leaves the depot.
    pub start: NaiveDateTime,
    /// Back at the depot.
    pub end: NaiveDateTime,
    pub stops: Vec<PlannedStop>,
}

/// What is known of where the courier is beyond his reports: a position of his phone and
/// the travel time from there to the stop he is on his way to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sighting {
    pub at: NaiveDateTime,
    pub to_next: Duration,
}

/// The estimate of a stop still ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub arrival: NaiveDateTime,
    pub start: NaiveDateTime,
    pub departure: NaiveDateTime,
    /// The arrival passes the end of the promised window, less the margin.
    pub delayed: bool,
}

/// The route re-timed: an estimate per stop (`None` for a visit that is over) and the
/// estimated return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retimed {
    pub stops: Vec<Option<Estimate>>,
    pub end: NaiveDateTime,
}

/// The plans' days that can be under way at `now`: a plan's date is its depots' local one,
/// so its day may have begun on the UTC day before or run into the next.
pub fn days_under_way(now: NaiveDateTime) -> (NaiveDate, NaiveDate) {
    let today = now.date();
    (today - Duration::days(1), today + Duration::days(1))
}

/// Re-times the stops not yet over, as of `now`: nobody arrives or leaves in the past, a
/// visit under way lasts at least until now, and a courier idle after a visit leaves now.
/// `sighting` times the stop he is on his way to from his latest position when it is newer
/// than his report. Before the day starts (and with no reports) the plan stands.
pub fn retime(
    route: &PlannedRoute,
    now: NaiveDateTime,
    sighting: Option<Sighting>,
    margin: Duration,
) -> Retimed {
    // When the courier is free to leave the previous place, and when he was planned to.
    let mut free = route.start;
    let mut planned_free = route.start;
    let mut stops = Vec::with_capacity(route.stops.len());
    // A break before a visit he already reported on was taken (breaks are not reported).
    let last_reported = route
        .stops
        .iter()
        .rposition(|s| s.progress != Progress::Ahead);
    for (i, stop) in route.stops.iter().enumerate() {
        let leg = (stop.arrival - planned_free).max(Duration::zero());
        let service = (stop.departure - stop.start).max(Duration::zero());
        planned_free = stop.departure;
        if stop.is_break && last_reported.is_some_and(|last| last > i) {
            stops.push(None);
            continue;
        }
        let arrival = match stop.progress {
            Progress::Over(at) => {
                free = at;
                stops.push(None);
                continue;
            }
            Progress::Arrived(at) => at,
            Progress::OnTheWay(left) => {
                let by_report = left + leg;
                let by_position = sighting.filter(|s| s.at >= left).map(|s| s.at + s.to_next);
                by_position.unwrap_or(by_report).max(now)
            }
            // The courier leaves when he is free, and not before now once his day began.
            Progress::Ahead if now > route.start => free.max(now) + leg,
            Progress::Ahead => free + leg,
        };
        let start = if stop.is_break && stop.start > stop.arrival {
            arrival.max(stop.start)
        } else if stop.is_break {
            arrival
        } else {
            service_start(&stop.windows, arrival)
        };
        let mut departure = start + service;
        if matches!(stop.progress, Progress::Arrived(_)) {
            departure = departure.max(now);
        }
        let delayed = !matches!(stop.progress, Progress::Arrived(_))
            && promised(&stop.windows, stop.start).is_some_and(|(_, end)| arrival > end - margin);
        free = departure;
        stops.push(Some(Estimate {
            arrival,
            start,
            departure,
            delayed,
        }));
    }
    let back = (route.end - planned_free).max(Duration::zero());
    let end = if now > route.start {
        free.max(now) + back
    } else {
        free + back
    };
    Retimed { stops, end }
}

/// The start of service for an arrival: the earliest window start at or after it among
/// the windows still open, or the arrival itself (inside a window, or after them all).
pub fn service_start(
    windows: &[(NaiveDateTime, NaiveDateTime)],
    arrival: NaiveDateTime,
) -> NaiveDateTime {
    windows
        .iter()
        .find(|(_, end)| *end >= arrival)
        .map_or(arrival, |(start, _)| arrival.max(*start))
}

/// The window a visit was promised in: the one its planned start falls in (or the next).
pub fn promised(
    windows: &[(NaiveDateTime, NaiveDateTime)],
    planned_start: NaiveDateTime,
) -> Option<(NaiveDateTime, NaiveDateTime)> {
    windows
        .iter()
        .find(|(_, end)| *end >= planned_start)
        .or(windows.last())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 3)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .unwrap_or_default()
    }

    /// Depot at 9:00; stop A 9:20-9:35 (window 9:00-10:00), stop B 10:00 (arrival 9:50,
    /// waits for its window 10:00-11:00) to 10:15; back at 10:40.
    fn day() -> PlannedRoute {
        PlannedRoute {
            start: at(9, 0),
            end: at(10, 40),
            stops: vec![
                PlannedStop {
                    arrival: at(9, 20),
                    start: at(9, 20),
                    departure: at(9, 35),
                    windows: vec![(at(9, 0), at(10, 0))],
                    is_break: false,
                    progress: Progress::Ahead,
                },
                PlannedStop {
                    arrival: at(9, 50),
                    start: at(10, 0),
                    departure: at(10, 15),
                    windows: vec![(at(10, 0), at(11, 0))],
                    is_break: false,
                    progress: Progress::Ahead,
                },
            ],
        }
    }

    fn estimate(r: &Retimed, i: usize) -> Estimate {
        r.stops[i].unwrap_or(Estimate {
            arrival: at(0, 0),
            start: at(0, 0),
            departure: at(0, 0),
            delayed: false,
        })
    }

    #[test]
    fn before_the_day_the_plan_stands() {
        let route = day();
        let r = retime(&route, at(8, 0), None, Duration::zero());
        for (i, planned) in route.stops.iter().enumerate() {
            let e = estimate(&r, i);
            assert_eq!(
                (e.arrival, e.start, e.departure),
                (planned.arrival, planned.start, planned.departure)
            );
            assert!(!e.delayed);
        }
        assert_eq!(r.end, route.end);
    }

    #[test]
    fn a_late_arrival_pushes_the_rest_and_flags_a_missed_window() {
        let mut route = day();
        route.stops[0].progress = Progress::Arrived(at(10, 30));
        let r = retime(&route, at(10, 31), None, Duration::zero());
        let a = estimate(&r, 0);
        // At the door: not a forecast any more, and not flagged.
        assert_eq!((a.arrival, a.departure), (at(10, 30), at(10, 45)));
        assert!(!a.delayed);
        let b = estimate(&r, 1);
        // The 15-minute leg after the 15-minute visit.
        assert_eq!(
            (b.arrival, b.start, b.departure),
            (at(11, 0), at(11, 0), at(11, 15))
        );
        assert!(!b.delayed, "arriving at the window's very end is on time");
        assert_eq!(r.end, at(11, 40));

        route.stops[0].progress = Progress::Arrived(at(10, 31));
        let r = retime(&route, at(10, 32), None, Duration::zero());
        assert!(estimate(&r, 1).delayed);
        // Told ahead: a 10-minute margin flags an arrival at 10:55.
        route.stops[0].progress = Progress::Arrived(at(10, 25));
        assert!(!estimate(&retime(&route, at(10, 26), None, Duration::zero()), 1).delayed);
        assert!(estimate(&retime(&route, at(10, 26), None, Duration::minutes(10)), 1).delayed);
    }

    #[test]
    fn a_long_visit_lasts_at_least_until_now_and_an_idle_courier_leaves_now() {
        let mut route = day();
        route.stops[0].progress = Progress::Arrived(at(9, 20));
        let r = retime(&route, at(9, 50), None, Duration::zero());
        assert_eq!(estimate(&r, 0).departure, at(9, 50));
        assert_eq!(estimate(&r, 1).arrival, at(10, 5));

        route.stops[0].progress = Progress::Over(at(9, 30));
        let r = retime(&route, at(9, 40), None, Duration::zero());
        assert!(r.stops[0].is_none());
        assert_eq!(estimate(&r, 1).arrival, at(9, 55));
        assert_eq!(
            estimate(&r, 1).start,
            at(10, 0),
            "early: waits for the window"
        );
    }

    #[test]
    fn a_position_newer_than_the_report_times_the_next_stop() {
        let mut route = day();
        route.stops[0].progress = Progress::OnTheWay(at(9, 0));
        let sighting = Sighting {
            at: at(9, 30),
            to_next: Duration::minutes(12),
        };
        let r = retime(&route, at(9, 31), Some(sighting), Duration::zero());
        assert_eq!(estimate(&r, 0).arrival, at(9, 42));
        // A position older than his report says nothing of this leg.
        let old = Sighting {
            at: at(8, 50),
            to_next: Duration::minutes(90),
        };
        let r = retime(&route, at(9, 5), Some(old), Duration::zero());
        assert_eq!(estimate(&r, 0).arrival, at(9, 20));
        // Nobody arrives in the past.
        let r = retime(&route, at(9, 25), None, Duration::zero());
        assert_eq!(estimate(&r, 0).arrival, at(9, 25));
    }

    #[test]
    fn a_day_begun_without_reports_slips_with_the_clock() {
        let route = day();
        let r = retime(&route, at(9, 10), None, Duration::zero());
        assert_eq!(estimate(&r, 0).arrival, at(9, 30));
        assert_eq!(estimate(&r, 1).arrival, at(10, 0));
    }

    #[test]
    fn the_break_keeps_its_planned_start_when_early() {
        let mut route = day();
        route.stops.insert(
            1,
            PlannedStop {
                arrival: at(9, 35),
                start: at(9, 40),
                departure: at(10, 10),
                windows: Vec::new(),
                is_break: true,
                progress: Progress::Ahead,
            },
        );
        route.stops[0].progress = Progress::Over(at(9, 25));
        let r = retime(&route, at(9, 26), None, Duration::zero());
        let b = estimate(&r, 1);
        assert_eq!(
            (b.arrival, b.start, b.departure),
            (at(9, 26), at(9, 40), at(10, 10))
        );
        // Once he reports on the visit after it, the break is behind him.
        route.stops[2].progress = Progress::OnTheWay(at(10, 5));
        let r = retime(&route, at(10, 6), None, Duration::zero());
        assert!(r.stops[1].is_none());
        assert_eq!(
            estimate(&r, 2).arrival,
            at(10, 6),
            "left at 10:05, no leg after the break"
        );
        assert!(!b.delayed);
    }
}
