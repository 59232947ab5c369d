//! A manager's decision on a claim and the courier work it causes.

use serde::{Deserialize, Serialize};

use crate::claim::ClaimStatus;
pub use crate::claim::RejectReason;
use crate::error::{string_enum, FieldError};
pub use crate::job::{JobKind, Leg};
use crate::partner::PartnerKind;

/// Longest accepted reason, in characters; keeps notifications readable.
pub const MAX_REASON_CHARS: usize = 2000;
/// Largest refund accepted without going through another process (1,000,000.00).
pub const MAX_REFUND_CENTS: i64 = 100_000_000;

/// What the manager decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Give the customer a new unit.
    Replacement,
    /// Give the customer their money back.
    Refund,
    /// Repair the unit.
    Repair,
    /// Turn the claim down.
    Reject,
}

string_enum!(DecisionKind {
    Replacement => "replacement",
    Refund => "refund",
    Repair => "repair",
    Reject => "reject",
});

/// How the unit travels (or the repair happens), chosen with an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Logistics {
    /// A courier visits the customer.
    #[default]
    Courier,
    /// The customer brings the unit to a depot (and collects it there); no courier job.
    CustomerBrings,
    /// A technician repairs the unit at the customer's (repairs only).
    Onsite,
    /// A courier takes the unit to a contract workshop and brings it back repaired (repairs
    /// only; the decision names the workshop).
    Contractor,
    /// A courier collects the new unit at a supplier and exchanges it at the customer's
    /// for the defective one, which goes to the depot (replacements only; the decision names
    /// the supplier).
    Supplier,
}

string_enum!(Logistics {
    Courier => "courier",
    CustomerBrings => "customer_brings",
    Onsite => "onsite",
    Contractor => "contractor",
    Supplier => "supplier",
});

impl Logistics {
    /// The kind of partner these logistics send a courier to, if any.
    pub fn partner_kind(self) -> Option<PartnerKind> {
        match self {
            Logistics::Contractor => Some(PartnerKind::Workshop),
            Logistics::Supplier => Some(PartnerKind::Supplier),
            Logistics::Courier | Logistics::CustomerBrings | Logistics::Onsite => None,
        }
    }
}

/// A decision as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DecisionInput {
    pub kind: DecisionKind,
    pub reason: Option<String>,
    /// Required for a rejection: which of the listed reasons.
    pub reason_code: Option<RejectReason>,
    pub refund_amount_cents: Option<i64>,
    /// For approvals; `courier` when absent.
    pub logistics: Option<Logistics>,
    /// Why an approval goes ahead although the warranty does not cover the claim
    /// (goodwill, paid service).
    pub override_reason: Option<String>,
    /// The contract workshop for `logistics: contractor`, the supplier for `supplier`.
    pub partner_id: Option<i64>,
}

/// A validated decision: the texts are trimmed and non-empty if present, a rejection has
/// its code and text, `refund_amount_cents` is present exactly for refunds, and an
/// approval has its logistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub kind: DecisionKind,
    pub reason: Option<String>,
    pub reason_code: Option<RejectReason>,
    pub refund_amount_cents: Option<i64>,
    /// `None` for a rejection.
    pub logistics: Option<Logistics>,
    pub override_reason: Option<String>,
    /// Present exactly for `logistics: contractor` or `supplier` (whether it is a partner
    /// of the right kind that takes the product is checked against the registry by the
    /// caller).
    pub partner_id: Option<i64>,
}

/// Whether the warranty check (`in_warranty`, `expired`, `unknown_serial`) lets an
/// approval through without an override.
pub fn warranty_covers(warranty_status: &str) -> bool {
    warranty_status == "in_warranty"
}

/// An approval of a claim the warranty does not cover needs an override with its reason;
/// a rejection needs none. Returns the error naming the warranty status.
pub fn check_override(decision: &Decision, warranty_status: &str) -> Result<(), FieldError> {
    let approves = decision.kind != DecisionKind::Reject;
    if approves && !warranty_covers(warranty_status) && decision.override_reason.is_none() {
        return Err(FieldError::new(
            "override",
            format!(
                "the warranty check says `{warranty_status}`: approving needs an override with \
                 its reason (goodwill or paid service)"
            ),
        ));
    }
    Ok(())
}

/// Validates a submitted decision, reporting every problem at once so the
/// manager can fix the form in one go.
pub fn validate_decision(input: DecisionInput) -> Result<Decision, Vec<FieldError>> {
    let mut errors = Vec::new();

    let reason = input
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reason {
        if r.chars().count() > MAX_REASON_CHARS {
            errors.push(FieldError::new(
                "reason",
                format!("the reason must be at most {MAX_REASON_CHARS} characters"),
            ));
        }
    }
    if input.kind == DecisionKind::Reject && reason.is_none() {
        errors.push(FieldError::new(
            "reason",
            "a rejection needs a reason the customer can read",
        ));
    }
    match (input.kind, input.reason_code) {
        (DecisionKind::Reject, None) => errors.push(FieldError::new(
            "reason_code",
            "a rejection needs a reason code: expired, misuse, mechanical_damage, \
             not_covered, unknown_serial or other",
        )),
        (DecisionKind::Reject, Some(_)) | (_, None) => {}
        (kind, Some(_)) => errors.push(FieldError::new(
            "reason_code",
            format!("a reason code only applies to rejections, not to `{kind}`"),
        )),
    }
    let logistics = match (input.kind, input.logistics) {
        (DecisionKind::Reject, None) => None,
        (DecisionKind::Reject, Some(_)) => {
            errors.push(FieldError::new(
                "logistics",
                "logistics only apply to approvals",
            ));
            None
        }
        (kind @ (DecisionKind::Repair | DecisionKind::Refund), Some(Logistics::Supplier)) => {
            errors.push(FieldError::new(
                "logistics",
                format!("a supplier's unit is for replacements, not for `{kind}`"),
            ));
            None
        }
        (DecisionKind::Repair, l) => Some(l.unwrap_or_default()),
        (kind, Some(Logistics::Onsite)) => {
            errors.push(FieldError::new(
                "logistics",
                format!("an on-site visit is for repairs, not for `{kind}`"),
            ));
            None
        }
        (kind, Some(Logistics::Contractor)) => {
            errors.push(FieldError::new(
                "logistics",
                format!("a contract workshop is for repairs, not for `{kind}`"),
            ));
            None
        }
        (_, l) => Some(l.unwrap_or_default()),
    };
    let override_reason = input
        .override_reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if override_reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        errors.push(FieldError::new(
            "override.reason",
            format!("the reason must be at most {MAX_REASON_CHARS} characters"),
        ));
    }

    match (input.kind, input.refund_amount_cents) {
        (DecisionKind::Refund, None) => errors.push(FieldError::new(
            "refund_amount_cents",
            "a refund needs an amount",
        )),
        (DecisionKind::Refund, Some(a)) if a <= 0 => errors.push(FieldError::new(
            "refund_amount_cents",
            "the refund amount must be greater than zero",
        )),
        (DecisionKind::Refund, Some(a)) if a > MAX_REFUND_CENTS => errors.push(FieldError::new(
            "refund_amount_cents",
            format!("the refund amount must be at most {MAX_REFUND_CENTS} cents"),
        )),
        (DecisionKind::Refund, Some(_)) => {}
        (kind, Some(_)) => errors.push(FieldError::new(
            "refund_amount_cents",
            format!("a refund amount only applies to refunds, not to `{kind}`"),
        )),
        (_, None) => {}
    }

    match (logistics, input.partner_id) {
        (Some(Logistics::Contractor), None) => errors.push(FieldError::new(
            "partner_id",
            "a repair by a contract workshop needs the workshop (`partner_id`)",
        )),
        (Some(Logistics::Supplier), None) => errors.push(FieldError::new(
            "partner_id",
            "a replacement from a supplier needs the supplier (`partner_id`)",
        )),
        (Some(Logistics::Contractor | Logistics::Supplier), Some(_)) => {}
        (_, Some(_)) => errors.push(FieldError::new(
            "partner_id",
            "a partner only applies to a repair with `logistics: contractor` or a \
             replacement with `logistics: supplier`",
        )),
        (_, None) => {}
    }

    if errors.is_empty() {
        Ok(Decision {
            kind: input.kind,
            reason,
            reason_code: input.reason_code,
            refund_amount_cents: input.refund_amount_cents,
            logistics,
            override_reason,
            partner_id: input.partner_id,
        })
    } else {
        Err(errors)
    }
}

impl Decision {
    /// The status the claim moves to once this decision is recorded.
    pub fn target_status(&self) -> ClaimStatus {
        match self.kind {
            DecisionKind::Reject => ClaimStatus::Rejected,
            _ => ClaimStatus::Approved,
        }
    }
}

/// A courier job to be created, in the terms the route planner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    pub kind: JobKind,
    /// Units carried to the customer (taken from the depot).
    pub delivery_load: i32,
    /// Units carried back from the customer.
    pub pickup_load: i32,
    /// Courier skills required, e.g. `cash` for handing out money.
    pub skills: Vec<String>,
    /// Expected time at the address.
    pub service_minutes: i32,
    pub priority: i32,
    /// Cash the courier must hand over.
    pub cash_cents: Option<i64>,
    /// At the decision's workshop rather than the customer's.
    pub at_partner: bool,
    /// One end of a shipment: a `delivery` pairs with the `pickup` created before it.
    pub leg: Option<Leg>,
}

/// Priority given to warranty jobs; all equal for now.
const JOB_PRIORITY: i32 = 1;

fn spec(kind: JobKind, delivery: i32, pickup: i32, service_minutes: i32) -> JobSpec {
    JobSpec {
        kind,
        delivery_load: delivery,
        pickup_load: pickup,
        skills: Vec::new(),
        service_minutes,
        priority: JOB_PRIORITY,
        cash_cents: None,
        at_partner: false,
        leg: None,
    }
}

/// A unit carried between the customer and a workshop: taken at `from`, handed over at `to`,
/// one courier, in that order.
fn shipment(from: JobSpec, to: JobSpec) -> Vec<JobSpec> {
    vec![
        JobSpec {
            leg: Some(Leg::Pickup),
            ..from
        },
        JobSpec {
            leg: Some(Leg::Delivery),
            ..to
        },
    ]
}

/// Every product takes at least one unit of space, even if the catalogue says 0.
fn units(size_units: i32) -> i32 {
    size_units.max(1)
}

/// Skill of the couriers who may repair a unit at the customer's.
pub const TECHNICIAN: &str = "technician";

/// The courier jobs an approved decision needs right away.
///
/// A repair by courier only starts with a pickup: the return trip is created later with
/// [`return_jobs_after_repair`], once the unit is actually fixed. A unit the customer brings
/// needs no courier; an on-site repair is one technician's visit; a contract workshop's
/// repair starts with the unit's trip from the customer to the workshop; a supplier's
/// replacement is the new unit's trip from the supplier to the customer's exchange.
pub fn jobs_for_decision(decision: &Decision, size_units: i32) -> Vec<JobSpec> {
    let size = units(size_units);
    match (decision.kind, decision.logistics.unwrap_or_default()) {
        (DecisionKind::Reject, _) | (_, Logistics::CustomerBrings) => Vec::new(),
        (DecisionKind::Repair, Logistics::Onsite) => vec![JobSpec {
            skills: vec![TECHNICIAN.to_owned()],
            ..spec(JobKind::OnsiteRepair, 0, 0, 60)
        }],
        // The new unit from the supplier, exchanged at her door for the defective one, which
        // rides on to the depot.
        (DecisionKind::Replacement, Logistics::Supplier) => shipment(
            JobSpec {
                at_partner: true,
                ..spec(JobKind::CollectNew, 0, size, 10)
            },
            spec(JobKind::Exchange, size, size, 20),
        ),
        // New unit out and the defective one back, in the same visit.
        (DecisionKind::Replacement, _) => vec![spec(JobKind::Exchange, size, size, 20)],
        (DecisionKind::Refund, _) => vec![JobSpec {
            skills: vec!["cash".to_owned()],
            cash_cents: decision.refund_amount_cents,
            ..spec(JobKind::Refund, 0, size, 15)
        }],
        (DecisionKind::Repair, Logistics::Contractor) => shipment(
            spec(JobKind::Pickup, 0, size, 10),
            JobSpec {
                at_partner: true,
                ..spec(JobKind::DropOff, size, 0, 10)
            },
        ),
        (DecisionKind::Repair, _) => vec![spec(JobKind::Pickup, 0, size, 10)],
    }
}

/// The jobs that bring a repaired unit back to the customer: from the depot, or from the
/// contract workshop (`contractor`) as a shipment.
pub fn return_jobs_after_repair(size_units: i32, contractor: bool) -> Vec<JobSpec> {
    let size = units(size_units);
    let back = spec(JobKind::Return, size, 0, 10);
    if contractor {
        shipment(
            JobSpec {
                at_partner: true,
                ..spec(JobKind::Collect, 0, size, 10)
            },
            back,
        )
    } else {
        vec![back]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn input(kind: DecisionKind, reason: Option<&str>, amount: Option<i64>) -> DecisionInput {
        DecisionInput {
            kind,
            reason: reason.map(str::to_owned),
            reason_code: (kind == DecisionKind::Reject).then_some(RejectReason::Other),
            refund_amount_cents: amount,
            logistics: None,
            override_reason: None,
            partner_id: None,
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn kinds_round_trip() {
        for k in DecisionKind::ALL {
            assert_eq!(k.as_str().parse::<DecisionKind>().unwrap(), k);
        }
        assert!("approve".parse::<DecisionKind>().is_err());
        // Both paths name the same type.
        let k: crate::job::JobKind = JobKind::Exchange;
        assert_eq!(k.as_str(), "exchange");
    }

    #[test]
    fn reason_is_trimmed_and_empty_dropped() {
        let d =
            validate_decision(input(DecisionKind::Repair, Some("  worn gear \n"), None)).unwrap();
        assert_eq!(d.reason.as_deref(), Some("worn gear"));
        let d = validate_decision(input(DecisionKind::Repair, Some("   "), None)).unwrap();
        assert_eq!(d.reason, None);
        assert_eq!(d.target_status(), ClaimStatus::Approved);
    }

    #[test]
    fn overlong_reason() {
        let ok = "x".repeat(MAX_REASON_CHARS);
        assert!(validate_decision(input(DecisionKind::Repair, Some(&ok), None)).is_ok());
        // Counted in characters, not bytes.
        let ok = "é".repeat(MAX_REASON_CHARS);
        assert!(validate_decision(input(DecisionKind::Repair, Some(&ok), None)).is_ok());
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        let errs = validate_decision(input(DecisionKind::Repair, Some(&long), None)).unwrap_err();
        assert_eq!(fields(&errs), vec!["reason"]);
    }

    #[test]
    fn reject_needs_reason() {
        let errs = validate_decision(input(DecisionKind::Reject, None, None)).unwrap_err();
        assert_eq!(
            errs,
            vec![FieldError::new(
                "reason",
                "a rejection needs a reason the customer can read"
            )]
        );
        let errs = validate_decision(input(DecisionKind::Reject, Some("  "), None)).unwrap_err();
        assert_eq!(fields(&errs), vec!["reason"]);
        let d = validate_decision(input(DecisionKind::Reject, Some("water damage"), None)).unwrap();
        assert_eq!(d.target_status(), ClaimStatus::Rejected);
    }

    #[test]
    fn refund_amount_rules() {
        for bad in [None, Some(0), Some(-5), Some(MAX_REFUND_CENTS + 1)] {
            let errs = validate_decision(input(DecisionKind::Refund, None, bad)).unwrap_err();
            assert_eq!(fields(&errs), vec!["refund_amount_cents"], "{bad:?}");
        }
        for good in [1, 4_999, MAX_REFUND_CENTS] {
            let d = validate_decision(input(DecisionKind::Refund, None, Some(good))).unwrap();
            assert_eq!(d.refund_amount_cents, Some(good));
        }
        for kind in [
            DecisionKind::Replacement,
            DecisionKind::Repair,
            DecisionKind::Reject,
        ] {
            let errs = validate_decision(input(kind, Some("why"), Some(100))).unwrap_err();
            assert_eq!(fields(&errs), vec!["refund_amount_cents"]);
        }
    }

    #[test]
    fn all_errors_reported_together() {
        let errs = validate_decision(input(DecisionKind::Reject, None, Some(10))).unwrap_err();
        assert_eq!(fields(&errs), vec!["reason", "refund_amount_cents"]);
    }

    fn decided(kind: DecisionKind, amount: Option<i64>) -> Decision {
        validate_decision(input(kind, Some("ok"), amount)).unwrap()
    }

    #[test]
    fn replacement_job() {
        let jobs = jobs_for_decision(&decided(DecisionKind::Replacement, None), 3);
        assert_eq!(
            jobs,
            vec![JobSpec {
                kind: JobKind::Exchange,
                delivery_load: 3,
                pickup_load: 3,
                skills: vec![],
                service_minutes: 20,
                priority: 1,
                cash_cents: None,
                at_partner: false,
                leg: None,
            }]
        );
    }

    #[test]
    fn refund_job() {
        let jobs = jobs_for_decision(&decided(DecisionKind::Refund, Some(12_345)), 2);
        assert_eq!(
            jobs,
            vec![JobSpec {
                kind: JobKind::Refund,
                delivery_load: 0,
                pickup_load: 2,
                skills: vec!["cash".to_owned()],
                service_minutes: 15,
                priority: 1,
                cash_cents: Some(12_345),
                at_partner: false,
                leg: None,
            }]
        );
    }

    #[test]
    fn repair_jobs() {
        let jobs = jobs_for_decision(&decided(DecisionKind::Repair, None), 4);
        assert_eq!(
            jobs,
            vec![JobSpec {
                kind: JobKind::Pickup,
                delivery_load: 0,
                pickup_load: 4,
                skills: vec![],
                service_minutes: 10,
                priority: 1,
                cash_cents: None,
                at_partner: false,
                leg: None,
            }]
        );
        assert_eq!(
            return_jobs_after_repair(4, false),
            vec![JobSpec {
                kind: JobKind::Return,
                delivery_load: 4,
                pickup_load: 0,
                skills: vec![],
                service_minutes: 10,
                priority: 1,
                cash_cents: None,
                at_partner: false,
                leg: None,
            }]
        );
    }

    #[test]
    fn a_rejection_needs_its_code_and_only_it_has_one() {
        let mut no_code = input(DecisionKind::Reject, Some("dropped"), None);
        no_code.reason_code = None;
        assert_eq!(
            fields(&validate_decision(no_code).unwrap_err()),
            vec!["reason_code"]
        );
        let mut coded = input(DecisionKind::Repair, None, None);
        coded.reason_code = Some(RejectReason::Misuse);
        assert_eq!(
            fields(&validate_decision(coded).unwrap_err()),
            vec!["reason_code"]
        );
    }

    #[test]
    fn logistics_choose_the_jobs() {
        let with = |kind, logistics, amount| {
            let mut i = input(kind, None, amount);
            i.logistics = Some(logistics);
            validate_decision(i)
        };
        let brings = with(DecisionKind::Replacement, Logistics::CustomerBrings, None).unwrap();
        assert!(jobs_for_decision(&brings, 2).is_empty());
        let onsite = with(DecisionKind::Repair, Logistics::Onsite, None).unwrap();
        let jobs = jobs_for_decision(&onsite, 2);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].kind, JobKind::OnsiteRepair);
        assert_eq!(jobs[0].skills, vec![TECHNICIAN.to_owned()]);
        assert_eq!((jobs[0].delivery_load, jobs[0].pickup_load), (0, 0));
        let errs = with(DecisionKind::Refund, Logistics::Onsite, Some(100)).unwrap_err();
        assert_eq!(fields(&errs), vec!["logistics"]);
        let mut reject = input(DecisionKind::Reject, Some("no"), None);
        reject.logistics = Some(Logistics::Courier);
        assert_eq!(
            fields(&validate_decision(reject).unwrap_err()),
            vec!["logistics"]
        );
        // Absent: a courier.
        let d = validate_decision(input(DecisionKind::Repair, None, None)).unwrap();
        assert_eq!(d.logistics, Some(Logistics::Courier));
    }

    /// Each spec's kind, leg, place (at the partner?) and loads; a paired spec's kind tells its
    /// end.
    fn shape(specs: &[JobSpec]) -> Vec<(JobKind, Option<Leg>, bool, i32, i32)> {
        for spec in specs.iter().filter(|s| s.leg.is_some()) {
            assert_eq!(spec.kind.leg(), spec.leg, "{:?}", spec.kind);
        }
        specs
            .iter()
            .map(|j| (j.kind, j.leg, j.at_partner, j.delivery_load, j.pickup_load))
            .collect()
    }

    /// A decision of `kind` with a reason (and an amount for a refund), `logistics` and
    /// `partner`, validated.
    fn with(
        kind: DecisionKind,
        logistics: Option<Logistics>,
        partner: Option<i64>,
    ) -> Result<Decision, Vec<FieldError>> {
        let mut i = input(
            kind,
            Some("why"),
            (kind == DecisionKind::Refund).then_some(100),
        );
        i.logistics = logistics;
        i.partner_id = partner;
        validate_decision(i)
    }

    #[test]
    fn a_contract_workshop_repair_is_a_shipment_there_and_one_back() {
        let contractor = Some(Logistics::Contractor);
        let d = with(DecisionKind::Repair, contractor, Some(7)).unwrap();
        assert_eq!(d.partner_id, Some(7));
        assert_eq!(
            shape(&jobs_for_decision(&d, 3)),
            vec![
                (JobKind::Pickup, Some(Leg::Pickup), false, 0, 3),
                (JobKind::DropOff, Some(Leg::Delivery), true, 3, 0),
            ]
        );
        assert_eq!(
            shape(&return_jobs_after_repair(3, true)),
            vec![
                (JobKind::Collect, Some(Leg::Pickup), true, 0, 3),
                (JobKind::Return, Some(Leg::Delivery), false, 3, 0),
            ]
        );
        // The workshop is needed, and only there.
        let errs = with(DecisionKind::Repair, contractor, None).unwrap_err();
        assert_eq!(fields(&errs), vec!["partner_id"]);
        let errs = with(DecisionKind::Repair, None, Some(7)).unwrap_err();
        assert_eq!(fields(&errs), vec!["partner_id"]);
        for kind in [DecisionKind::Replacement, DecisionKind::Refund] {
            // Both said at once: the logistics are wrong, so the workshop has no place.
            let errs = with(kind, contractor, Some(7)).unwrap_err();
            assert_eq!(fields(&errs), vec!["logistics", "partner_id"], "{kind}");
        }
        let errs = with(DecisionKind::Reject, None, Some(7)).unwrap_err();
        assert_eq!(fields(&errs), vec!["partner_id"]);
    }

    #[test]
    fn a_supplier_replacement_is_the_new_unit_s_trip_to_the_exchange() {
        let supplier = Some(Logistics::Supplier);
        let d = with(DecisionKind::Replacement, supplier, Some(9)).unwrap();
        assert_eq!(
            d.logistics.and_then(Logistics::partner_kind),
            Some(PartnerKind::Supplier)
        );
        // Collected at the supplier; at her door the new unit goes in, the old one out.
        assert_eq!(
            shape(&jobs_for_decision(&d, 2)),
            vec![
                (JobKind::CollectNew, Some(Leg::Pickup), true, 0, 2),
                (JobKind::Exchange, Some(Leg::Delivery), false, 2, 2),
            ]
        );
        let errs = with(DecisionKind::Replacement, supplier, None).unwrap_err();
        assert_eq!(fields(&errs), vec!["partner_id"]);
        for kind in [DecisionKind::Repair, DecisionKind::Refund] {
            let errs = with(kind, supplier, Some(9)).unwrap_err();
            assert_eq!(fields(&errs), vec!["logistics", "partner_id"], "{kind}");
        }
        // A replacement by courier names no partner.
        let errs = with(DecisionKind::Replacement, None, Some(9)).unwrap_err();
        assert_eq!(fields(&errs), vec!["partner_id"]);
        assert_eq!(Logistics::Courier.partner_kind(), None);
    }

    #[test]
    fn approving_outside_the_warranty_needs_an_override() {
        let plain = validate_decision(input(DecisionKind::Replacement, None, None)).unwrap();
        assert!(check_override(&plain, "in_warranty").is_ok());
        for status in ["expired", "unknown_serial"] {
            let err = check_override(&plain, status).unwrap_err();
            assert_eq!(err.field, "override");
            assert!(err.message.contains(status), "{err}");
        }
        let mut goodwill = input(DecisionKind::Replacement, None, None);
        goodwill.override_reason = Some("  goodwill, loyal customer ".to_owned());
        let goodwill = validate_decision(goodwill).unwrap();
        assert_eq!(
            goodwill.override_reason.as_deref(),
            Some("goodwill, loyal customer")
        );
        assert!(check_override(&goodwill, "expired").is_ok());
        let reject = validate_decision(input(DecisionKind::Reject, Some("old"), None)).unwrap();
        assert!(check_override(&reject, "expired").is_ok());
    }

    #[test]
    fn reject_creates_no_job() {
        assert!(jobs_for_decision(&decided(DecisionKind::Reject, None), 1).is_empty());
    }

    #[test]
    fn size_below_one_counts_as_one() {
        let jobs = jobs_for_decision(&decided(DecisionKind::Replacement, None), 0);
        assert_eq!((jobs[0].delivery_load, jobs[0].pickup_load), (1, 1));
        assert_eq!(return_jobs_after_repair(-3, false)[0].delivery_load, 1);
    }
}
