//! Claim lifecycle: statuses, the transition table, remedies and claim numbers.

use serde::{Deserialize, Serialize};

use crate::error::string_enum;
pub use crate::error::UnknownValue;

/// Where a claim stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Just filed, nobody has looked at it yet.
    New,
    /// A manager is checking that the customer's information is complete.
    InfoCheck,
    /// The product is being examined.
    Diagnostics,
    /// Waiting for the manager's decision.
    Decision,
    /// A remedy was granted; courier jobs are about to be created.
    Approved,
    /// Courier jobs are under way.
    InFulfilment,
    /// The unit is at the workshop being repaired.
    InRepair,
    /// Fulfilment finished; a final check before closing.
    QualityControl,
    /// Done, the customer got the remedy.
    Closed,
    /// The claim was turned down.
    Rejected,
    /// The customer took the claim back before any visit was under way.
    Withdrawn,
}

string_enum!(ClaimStatus {
    New => "new",
    InfoCheck => "info_check",
    Diagnostics => "diagnostics",
    Decision => "decision",
    Approved => "approved",
    InFulfilment => "in_fulfilment",
    InRepair => "in_repair",
    QualityControl => "quality_control",
    Closed => "closed",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});

impl ClaimStatus {
    /// Stages in which a manager is still reviewing the claim and may decide
    /// on it at any moment (a decision may skip the remaining review steps).
    pub fn is_review_stage(self) -> bool {
        matches!(
            self,
            ClaimStatus::New
                | ClaimStatus::InfoCheck
                | ClaimStatus::Diagnostics
                | ClaimStatus::Decision
        )
    }

    /// Whether the claim still needs work; closed, rejected and withdrawn claims are final.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            ClaimStatus::Closed | ClaimStatus::Rejected | ClaimStatus::Withdrawn
        )
    }

    /// Stages in which the customer may still take her claim back (no visit under way).
    pub fn may_be_withdrawn(self) -> bool {
        self.is_review_stage() || self == ClaimStatus::Approved
    }
}

/// What causes a status change. The same move can be legal for one trigger
/// and illegal for another: a manager cannot click a claim into `approved`,
/// only a recorded decision can put it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionTrigger {
    /// A manager moves the claim through the review steps by hand.
    Manual,
    /// Recording a decision approves or rejects the claim.
    Decision,
    /// Courier job progress drives the claim forward.
    Fulfilment,
    /// Something happened at the depot or workshop: a unit handed in, a repair finished.
    Depot,
    /// The customer withdrew the claim.
    Withdrawal,
    /// Every visit attempt failed: the claim goes back to its manager.
    VisitsExhausted,
}

/// Every legal status change and the trigger that may perform it.
/// Anything not listed here is refused.
pub const TRANSITIONS: &[(ClaimStatus, ClaimStatus, TransitionTrigger)] = {
    use ClaimStatus::*;
    use TransitionTrigger as T;
    &[
        (New, InfoCheck, T::Manual),
        (InfoCheck, Diagnostics, T::Manual),
        (Diagnostics, Decision, T::Manual),
        (QualityControl, Closed, T::Manual),
        (New, Approved, T::Decision),
        (New, Rejected, T::Decision),
        (InfoCheck, Approved, T::Decision),
        (InfoCheck, Rejected, T::Decision),
        (Diagnostics, Approved, T::Decision),
        (Diagnostics, Rejected, T::Decision),
        (Decision, Approved, T::Decision),
        (Decision, Rejected, T::Decision),
        (Approved, InFulfilment, T::Fulfilment),
        (InFulfilment, QualityControl, T::Fulfilment),
        // Repairs: the pickup brings the unit to the workshop, the return visit takes it back.
        (InFulfilment, InRepair, T::Fulfilment),
        (InRepair, InFulfilment, T::Fulfilment),
        // The customer brings the unit (or collects it) at the depot.
        (Approved, InRepair, T::Depot),
        (Approved, QualityControl, T::Depot),
        (InRepair, QualityControl, T::Depot),
        (New, Withdrawn, T::Withdrawal),
        (InfoCheck, Withdrawn, T::Withdrawal),
        (Diagnostics, Withdrawn, T::Withdrawal),
        (Decision, Withdrawn, T::Withdrawal),
        (Approved, Withdrawn, T::Withdrawal),
        (Approved, Decision, T::VisitsExhausted),
        (InFulfilment, Decision, T::VisitsExhausted),
        (InRepair, Decision, T::VisitsExhausted),
    ]
};

/// A refused status change, carrying what *would* have been allowed so the
/// client can offer the right buttons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a claim in `{from}` cannot move to `{to}`; {}", allowed_text(.allowed))]
pub struct TransitionError {
    /// Current status.
    pub from: ClaimStatus,
    /// Requested status.
    pub to: ClaimStatus,
    /// Statuses reachable from `from` with the same trigger.
    pub allowed: Vec<ClaimStatus>,
}

fn allowed_text(allowed: &[ClaimStatus]) -> String {
    if allowed.is_empty() {
        "no move is allowed from there this way".to_owned()
    } else {
        let names: Vec<String> = allowed.iter().map(|s| format!("`{s}`")).collect();
        format!("allowed: {}", names.join(", "))
    }
}

/// Checks one status change against [`TRANSITIONS`].
pub fn check_transition(
    from: ClaimStatus,
    to: ClaimStatus,
    trigger: TransitionTrigger,
) -> Result<(), TransitionError> {
    let legal = TRANSITIONS
        .iter()
        .any(|&(f, t, tr)| f == from && t == to && tr == trigger);
    if legal {
        Ok(())
    } else {
        Err(TransitionError {
            from,
            to,
            allowed: next_statuses(from, trigger),
        })
    }
}

/// Statuses reachable from `from` with `trigger`, in table order.
pub fn next_statuses(from: ClaimStatus, trigger: TransitionTrigger) -> Vec<ClaimStatus> {
    TRANSITIONS
        .iter()
        .filter(|&&(f, _, tr)| f == from && tr == trigger)
        .map(|&(_, t, _)| t)
        .collect()
}

/// The remedy a customer asks for (or a manager grants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Swap the defective unit for a new one.
    Replacement,
    /// Pay the money back.
    Refund,
    /// Fix the unit and bring it back.
    Repair,
}

string_enum!(Remedy {
    Replacement => "replacement",
    Refund => "refund",
    Repair => "repair",
});

/// Why a claim was turned down; each code has a paragraph the customer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The warranty had ended.
    Expired,
    /// The unit was used against its instructions.
    Misuse,
    /// The unit was damaged (dropped, crushed, flooded).
    MechanicalDamage,
    /// The defect is not one the warranty covers (wear parts, cosmetics).
    NotCovered,
    /// The serial number is not one the seller sold.
    UnknownSerial,
    /// Anything else; the manager's text says what.
    Other,
}

string_enum!(RejectReason {
    Expired => "expired",
    Misuse => "misuse",
    MechanicalDamage => "mechanical_damage",
    NotCovered => "not_covered",
    UnknownSerial => "unknown_serial",
    Other => "other",
});

/// The customer-facing claim number, e.g. `CLM-2026-000123`.
///
/// The sequence is zero-padded to six digits so numbers sort and read evenly;
/// larger sequences simply get more digits rather than being truncated.
pub fn claim_number(year: i32, seq: i64) -> String {
    format!("CLM-{year}-{seq:06}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::ClaimStatus::*;
    use super::TransitionTrigger as T;
    use super::*;

    #[test]
    fn string_round_trip() {
        for s in ClaimStatus::ALL {
            assert_eq!(s.as_str().parse::<ClaimStatus>().unwrap(), s);
            assert_eq!(s.to_string(), s.as_str());
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<ClaimStatus>(&json).unwrap(), s);
        }
        assert_eq!(InFulfilment.as_str(), "in_fulfilment");
        assert_eq!(QualityControl.as_str(), "quality_control");
        assert_eq!(
            "bogus".parse::<ClaimStatus>(),
            Err(UnknownValue("bogus".into()))
        );
        for r in Remedy::ALL {
            assert_eq!(r.as_str().parse::<Remedy>().unwrap(), r);
        }
        assert!("Refund".parse::<Remedy>().is_err());
        for r in RejectReason::ALL {
            assert_eq!(r.as_str().parse::<RejectReason>().unwrap(), r);
        }
    }

    #[test]
    fn stage_predicates() {
        let review: Vec<_> = ClaimStatus::ALL
            .into_iter()
            .filter(|s| s.is_review_stage())
            .collect();
        assert_eq!(review, vec![New, InfoCheck, Diagnostics, Decision]);
        let closed: Vec<_> = ClaimStatus::ALL
            .into_iter()
            .filter(|s| !s.is_open())
            .collect();
        assert_eq!(closed, vec![Closed, Rejected, Withdrawn]);
        let withdrawable: Vec<_> = ClaimStatus::ALL
            .into_iter()
            .filter(|s| s.may_be_withdrawn())
            .collect();
        assert_eq!(
            withdrawable,
            vec![New, InfoCheck, Diagnostics, Decision, Approved]
        );
        for s in withdrawable {
            assert_eq!(check_transition(s, Withdrawn, T::Withdrawal), Ok(()));
        }
    }

    #[test]
    fn a_repair_goes_to_the_workshop_and_back() {
        assert_eq!(
            check_transition(InFulfilment, InRepair, T::Fulfilment),
            Ok(())
        );
        assert_eq!(
            check_transition(InRepair, InFulfilment, T::Fulfilment),
            Ok(())
        );
        assert_eq!(check_transition(Approved, InRepair, T::Depot), Ok(()));
        assert_eq!(check_transition(InRepair, QualityControl, T::Depot), Ok(()));
        // Nobody closes a claim while the unit is away.
        assert!(check_transition(InRepair, Closed, T::Manual).is_err());
        assert!(check_transition(InRepair, Withdrawn, T::Withdrawal).is_err());
    }

    #[test]
    fn every_table_row_is_allowed() {
        assert_eq!(TRANSITIONS.len(), 27);
        for &(from, to, trigger) in TRANSITIONS {
            assert_eq!(check_transition(from, to, trigger), Ok(()));
        }
    }

    #[test]
    fn decision_rows_cover_every_review_stage() {
        for s in ClaimStatus::ALL.into_iter().filter(|s| s.is_review_stage()) {
            assert_eq!(next_statuses(s, T::Decision), vec![Approved, Rejected]);
        }
    }

    #[test]
    fn illegal_moves_are_rejected() {
        let err = check_transition(New, Approved, T::Manual).unwrap_err();
        assert_eq!(err.from, New);
        assert_eq!(err.to, Approved);
        assert_eq!(err.allowed, vec![InfoCheck]);

        assert!(check_transition(Approved, Closed, T::Manual).is_err());
        assert!(check_transition(Approved, Closed, T::Fulfilment).is_err());
        assert!(check_transition(New, InfoCheck, T::Decision).is_err());
        assert!(check_transition(Approved, InFulfilment, T::Manual).is_err());
        assert!(check_transition(Diagnostics, New, T::Manual).is_err());
        assert!(check_transition(InFulfilment, Closed, T::Fulfilment).is_err());
        assert!(check_transition(New, New, T::Manual).is_err());
    }

    #[test]
    fn final_statuses_go_nowhere() {
        for from in [Closed, Rejected, Withdrawn] {
            for to in ClaimStatus::ALL {
                for trigger in [
                    T::Manual,
                    T::Decision,
                    T::Fulfilment,
                    T::Depot,
                    T::Withdrawal,
                    T::VisitsExhausted,
                ] {
                    let err = check_transition(from, to, trigger).unwrap_err();
                    assert!(err.allowed.is_empty());
                }
            }
        }
    }

    #[test]
    fn error_message_is_readable() {
        let err = check_transition(New, Approved, T::Manual).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a claim in `new` cannot move to `approved`; allowed: `info_check`"
        );
        let err = check_transition(Closed, New, T::Manual).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("a claim in `closed` cannot move to `new`"));
    }

    #[test]
    fn claim_numbers() {
        assert_eq!(claim_number(2026, 123), "CLM-2026-000123");
        assert_eq!(claim_number(2026, 0), "CLM-2026-000000");
        assert_eq!(claim_number(2026, 999_999), "CLM-2026-999999");
        assert_eq!(claim_number(2027, 1_234_567), "CLM-2027-1234567");
    }
}
