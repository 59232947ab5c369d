//! What the department's reports compute from a claim's history: the stays in each stage,
//! summaries of durations (mean, median, 90th percentile) and calendar periods.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::claim::ClaimStatus;
use crate::error::string_enum;

/// Count, mean, median and 90th percentile of some durations, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl Summary {
    pub fn of(mut values: Vec<f64>) -> Self {
        values.retain(|v| v.is_finite());
        values.sort_by(f64::total_cmp);
        let count = values.len();
        Self {
            count,
            mean: (count > 0).then(|| values.iter().sum::<f64>() / count as f64),
            median: quantile(&values, 0.5),
            p90: quantile(&values, 0.9),
        }
    }
}

/// The `q`-quantile of sorted values, interpolating linearly between the two closest
/// ranks (the definition spreadsheets and numpy use by default).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = q.clamp(0.0, 1.0) * last as f64;
    let (below, above) = (rank.floor() as usize, rank.ceil() as usize);
    let (low, high) = (*sorted.get(below)?, *sorted.get(above)?);
    Some(low + (high - low) * (rank - below as f64))
}

/// Hours between two moments.
pub fn hours(from: NaiveDateTime, to: NaiveDateTime) -> f64 {
    (to - from).num_milliseconds() as f64 / 3_600_000.0
}

/// One status change of a claim, as its history records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Move<A> {
    pub at: NaiveDateTime,
    pub from: ClaimStatus,
    pub to: ClaimStatus,
    /// Who made it (a manager, a courier's report through the system, ...).
    pub actor: A,
}

/// A claim's time in one stage that has ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stay<A> {
    pub stage: ClaimStatus,
    pub entered: NaiveDateTime,
    pub left: NaiveDateTime,
    /// Who moved the claim on.
    pub left_by: A,
}

impl<A> Stay<A> {
    pub fn hours(&self) -> f64 {
        hours(self.entered, self.left)
    }
}

/// The ended stays of a claim filed at `filed` whose moves are in time order: a claim
/// enters `new` when filed, and each stage when the move into it is made.
pub fn stays<A: Copy>(filed: NaiveDateTime, moves: &[Move<A>]) -> Vec<Stay<A>> {
    let mut entered = filed;
    moves
        .iter()
        .map(|m| {
            let stay = Stay {
                stage: m.from,
                entered,
                left: m.at,
                left_by: m.actor,
            };
            entered = m.at;
            stay
        })
        .collect()
}

/// How a report groups its rows in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

string_enum!(Period {
    Day => "day",
    Week => "week",
    Month => "month",
});

impl Period {
    /// The first day of the period that holds `day`.
    pub fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => day,
            Period::Week => {
                day - chrono::Duration::days(day.weekday().num_days_from_monday().into())
            }
            Period::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the next period.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start + chrono::Duration::days(1),
            Period::Week => start + chrono::Duration::days(7),
            Period::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start),
        }
    }

    /// The starts of every period that meets `[from, to]`, in order.
    pub fn starts(self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut at = self.start(from);
        while at <= to {
            out.push(at);
            let next = self.next(at);
            if next <= at {
                break;
            }
            at = next;
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&sorted, 0.5), Some(2.5));
        assert_eq!(quantile(&sorted, 0.0), Some(1.0));
        assert_eq!(quantile(&sorted, 1.0), Some(4.0));
        assert!((quantile(&sorted, 0.9).unwrap() - 3.7).abs() < 1e-12);
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn a_summary_of_nothing_has_no_figures() {
        let empty = Summary::of(vec![]);
        assert_eq!((empty.count, empty.mean, empty.median), (0, None, None));
        let some = Summary::of(vec![3.0, 1.0, 2.0, f64::NAN]);
        assert_eq!(
            (some.count, some.mean, some.median),
            (3, Some(2.0), Some(2.0))
        );
    }

    #[test]
    fn stays_run_from_filing_through_each_move() {
        let moves = [
            Move {
                at: at(2, 10),
                from: ClaimStatus::New,
                to: ClaimStatus::InfoCheck,
                actor: 1,
            },
            Move {
                at: at(3, 16),
                from: ClaimStatus::InfoCheck,
                to: ClaimStatus::Approved,
                actor: 2,
            },
        ];
        let stays = stays(at(2, 8), &moves);
        assert_eq!(stays.len(), 2);
        assert_eq!((stays[0].stage, stays[0].hours()), (ClaimStatus::New, 2.0));
        assert_eq!(
            (stays[1].stage, stays[1].hours(), stays[1].left_by),
            (ClaimStatus::InfoCheck, 30.0, 2)
        );
    }

    #[test]
    fn periods_start_on_the_first_day_and_cover_the_range() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(); // a Wednesday
        assert_eq!(
            Period::Week.start(day),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        assert_eq!(
            Period::Month.start(day),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        let starts = Period::Month.starts(
            NaiveDate::from_ymd_opt(2026, 11, 15).unwrap(),
            NaiveDate::from_ymd_opt(2027, 1, 3).unwrap(),
        );
        assert_eq!(starts.len(), 3);
        assert_eq!(starts[2], NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(Period::Day.starts(day, day), vec![day]);
    }
}
