//! Courier jobs: what kind of visit, and where it stands.

use serde::{Deserialize, Serialize};

use crate::error::string_enum;

/// What the courier does at the customer's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Hand over a new unit and take the defective one back in one visit.
    Exchange,
    /// Pay cash and take the defective unit back.
    Refund,
    /// Collect the defective unit for repair.
    Pickup,
    /// Bring a repaired unit back.
    Return,
    /// A technician repairs the unit at the customer's (needs the `technician` skill).
    OnsiteRepair,
    /// Hand a collected unit over at a contract workshop.
    DropOff,
    /// Collect a repaired unit at a contract workshop.
    Collect,
    /// Collect the replacement unit at a supplier (for the customer's exchange).
    CollectNew,
}

string_enum!(JobKind {
    Exchange => "exchange",
    Refund => "refund",
    Pickup => "pickup",
    Return => "return",
    OnsiteRepair => "onsite_repair",
    DropOff => "drop_off",
    Collect => "collect",
    CollectNew => "collect_new",
});

/// Which end of a shipment a job is: the unit is taken at the pickup and handed over at the
/// delivery, by one courier, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    Pickup,
    Delivery,
}

impl JobKind {
    /// The leg a job of this kind is when it is paired: the unit is taken at a `pickup` (from
    /// the customer) or a `collect`/`collect_new` (from a partner) and handed over at the
    /// other end; a
    /// refund or an on-site repair is never a leg.
    pub fn leg(self) -> Option<Leg> {
        match self {
            JobKind::Pickup | JobKind::Collect | JobKind::CollectNew => Some(Leg::Pickup),
            JobKind::DropOff | JobKind::Return | JobKind::Exchange => Some(Leg::Delivery),
            JobKind::Refund | JobKind::OnsiteRepair => None,
        }
    }
}

/// Progress of a courier job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Created, not yet in any route.
    Unplanned,
    /// Placed in a planned route.
    Planned,
    /// Given to a specific courier.
    Assigned,
    /// The courier is on the way.
    EnRoute,
    /// The courier is at the address.
    Arrived,
    /// Completed.
    Done,
    /// Attempted but not completed.
    Failed,
    /// Called off.
    Cancelled,
}

string_enum!(JobStatus {
    Unplanned => "unplanned",
    Planned => "planned",
    Assigned => "assigned",
    EnRoute => "en_route",
    Arrived => "arrived",
    Done => "done",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl JobStatus {
    /// Whether the job has reached an end state and needs no more work.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn string_round_trip() {
        assert_eq!(JobStatus::ALL.len(), 8);
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for k in JobKind::ALL {
            assert_eq!(k.as_str().parse::<JobKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(JobStatus::EnRoute.as_str(), "en_route");
        assert!("en-route".parse::<JobStatus>().is_err());
    }

    #[test]
    fn final_states() {
        let finals: Vec<_> = JobStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            vec![JobStatus::Done, JobStatus::Failed, JobStatus::Cancelled]
        );
    }
}
