//! Plans of a day: where a plan run stands and what may be done with it.

use serde::{Deserialize, Serialize};

use crate::error::string_enum;

/// A plan from the moment a dispatcher asks for it to the day it describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Waiting for a worker to compute it.
    Queued,
    /// A worker is searching; its progress is visible.
    Running,
    /// Computed; the dispatcher may review, edit and publish it.
    Draft,
    /// The couriers drive it.
    Published,
    /// Replaced by a later publication of the same day.
    Superseded,
    /// The computation failed or its worker died.
    Failed,
}

string_enum!(PlanStatus {
    Queued => "queued",
    Running => "running",
    Draft => "draft",
    Published => "published",
    Superseded => "superseded",
    Failed => "failed",
});

impl PlanStatus {
    /// Whether the plan has routes to show (it was computed).
    pub fn has_routes(self) -> bool {
        matches!(
            self,
            PlanStatus::Draft | PlanStatus::Published | PlanStatus::Superseded
        )
    }
}

/// What a plan run makes as small as it can, once every job that fits is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanObjective {
    /// Kilometres and paid hours (travel, service and waiting at doors), priced per km and
    /// per hour: no courier waits an hour at a door to save a kilometre.
    #[default]
    Cost,
    /// As few couriers as the day allows, then cost.
    FewestCouriers,
    /// Fair days: the longest route as short as it can be, the others close to it, then cost.
    Balanced,
    /// Every courier back as early as possible.
    EarliestFinish,
    /// Kilometres only, whatever the waiting.
    Distance,
}

string_enum!(PlanObjective {
    Cost => "cost",
    FewestCouriers => "fewest_couriers",
    Balanced => "balanced",
    EarliestFinish => "earliest_finish",
    Distance => "distance",
});

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn objectives_round_trip() {
        for o in PlanObjective::ALL {
            assert_eq!(o.as_str().parse::<PlanObjective>().unwrap(), o);
            assert_eq!(
                serde_json::to_string(&o).unwrap(),
                format!("\"{}\"", o.as_str())
            );
        }
        assert_eq!(PlanObjective::default(), PlanObjective::Cost);
    }

    #[test]
    fn string_round_trip_and_routes() {
        for s in PlanStatus::ALL {
            assert_eq!(s.as_str().parse::<PlanStatus>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        let with_routes: Vec<_> = PlanStatus::ALL
            .into_iter()
            .filter(|s| s.has_routes())
            .collect();
        assert_eq!(
            with_routes,
            [
                PlanStatus::Draft,
                PlanStatus::Published,
                PlanStatus::Superseded
            ]
        );
    }
}
