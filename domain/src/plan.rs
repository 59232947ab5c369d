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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
