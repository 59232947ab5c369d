//! `serve --demo --demo-history`: ten months of the demo city's past, so the reports show
//! something real. Units were sold in production batches; a few hundred of them came back
//! as claims, which went through review, decision, the depot and closing at a pace drawn
//! around each stage's SLA (some late). One batch of fridges fails far more often than the
//! rest: the defects report flags it. And tomorrow holds a day of approved visits for the
//! dispatcher to plan.
//!
//! Everything goes through the application layer, as a person's actions would; the times
//! are then moved back to when each step happened, and the notifications those steps
//! queued are dropped (nobody is told today about last spring).

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use domain::claim::{ClaimStatus, RejectReason, Remedy, TransitionTrigger};
use domain::decision::{validate_decision, DecisionInput, DecisionKind, Logistics};
use domain::sla::SlaPolicy;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::demo::{HOMES, PRODUCTS};
use crate::app::claims::{self, Filing};
use crate::app::registry::{self, Buyer, CustomerDetails, SaleInput};
use crate::db::claims::ClaimRow;
use crate::db::types::{TimeWindow, UserId};
use crate::db::{claims as claims_db, outbox, registry as registry_db, users, DbConnection};
use crate::error::{ApiError, ApiResult};

/// Batches per product.
const BATCHES: usize = 3;
/// The batch with the manufacturing fault (a fridge series' second batch).
const BAD_BATCH: (&str, usize) = ("FR-300", 1);

const FIRST_NAMES: [&str; 8] = [
    "Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hassan",
];
const LAST_NAMES: [&str; 8] = [
    "Schmidt", "Novak", "Yilmaz", "Weber", "Kowalski", "Petrova", "Fischer", "Ivanov",
];

/// How much history: units sold per batch, and a factor on every claim rate.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub units_per_batch: usize,
    pub claim_rate: f64,
}

impl Scale {
    /// The demo's: about 250 claims.
    pub const DEMO: Scale = Scale {
        units_per_batch: 160,
        claim_rate: 1.0,
    };

    /// About `claims` claims (the reports' benchmark asks for 100,000).
    pub fn claims(claims: usize) -> Scale {
        // Threefold rates give about one claim per three units sold.
        let units = (claims as f64 * 3.0 / (BATCHES * PRODUCTS.len()) as f64).ceil();
        Scale {
            units_per_batch: (units as usize).max(Scale::DEMO.units_per_batch),
            claim_rate: 3.0,
        }
    }
}

/// Claims made; none when the history is already there.
pub fn seed(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    today: NaiveDate,
    scale: Scale,
) -> ApiResult<usize> {
    if registry_db::find_sale(conn, &serial(PRODUCTS[0].0, 0, 0))?.is_some() {
        return Ok(0);
    }
    let dealer = users::find_by_email(conn, "dealer1@demo.test")?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("seed the demo city first")))?
        .id;
    let mut rng = StdRng::seed_from_u64(2026);
    let now = Utc::now().naive_utc();
    let mut made = 0;
    for (p, product) in PRODUCTS.iter().enumerate() {
        let (sku, series) = (product.0, product.3.unwrap_or(product.0));
        for batch in 0..BATCHES {
            let batch_id = format!("{series}-B{}", batch + 1);
            let bad = (sku, batch) == BAD_BATCH;
            // Batches a quarter apart, the first about ten months ago.
            let batch_start = today - Duration::days(300 - 75 * batch as i64);
            for unit in 0..scale.units_per_batch {
                let sold_at = batch_start + Duration::days(rng.gen_range(0..40));
                let serial_no = serial(sku, batch, unit);
                registry::register_sale(
                    conn,
                    &SaleInput {
                        serial_no: &serial_no,
                        sku,
                        sold_at,
                        warranty_until: None,
                        batch_id: Some(&batch_id),
                        buyer: Buyer::Unknown,
                    },
                )?;
                let rate =
                    (if bad { 0.6 } else { 0.06 + 0.02 * p as f64 } * scale.claim_rate).min(1.0);
                if !rng.gen_bool(rate) {
                    continue;
                }
                let first_day = sold_at + Duration::days(7);
                let last_day = today - Duration::days(1);
                if first_day >= last_day {
                    continue;
                }
                let day =
                    first_day + Duration::days(rng.gen_range(0..(last_day - first_day).num_days()));
                let filed_at =
                    super::at(day, rng.gen_range(7..17)) + Duration::minutes(rng.gen_range(0..60));
                let defect = if bad {
                    "leak"
                } else {
                    ["does_not_start", "noise", "leak", "display"][rng.gen_range(0..4)]
                };
                past_claim(
                    conn, sla, &mut rng, dealer, &serial_no, defect, filed_at, now, made,
                )?;
                made += 1;
            }
        }
    }
    made += tomorrow(conn, sla, today, dealer, &mut rng)?;
    Ok(made)
}

/// Approved claims to visit tomorrow, spread over the city, so that the dispatcher's
/// console has a day worth planning: several couriers' routes, windows that bind, a few
/// cash refunds and repair pickups.
fn tomorrow(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    today: NaiveDate,
    dealer: UserId,
    rng: &mut StdRng,
) -> ApiResult<usize> {
    const CLAIMS: usize = 18;
    let day = today + Duration::days(1);
    for n in 0..CLAIMS {
        let (sku, ..) = PRODUCTS[n % PRODUCTS.len()];
        let serial_no = format!("NEXT-{sku}-{n:04}");
        registry::register_sale(
            conn,
            &SaleInput {
                serial_no: &serial_no,
                sku,
                sold_at: today - Duration::days(rng.gen_range(20..200)),
                warranty_until: None,
                batch_id: None,
                buyer: Buyer::Unknown,
            },
        )?;
        let home = HOMES[n % HOMES.len()];
        // Neighbours of the demo's homes, a few streets apart.
        let (lat, lon) = (
            home.1 + rng.gen_range(-0.02..0.02),
            home.2 + rng.gen_range(-0.035..0.035),
        );
        let customer = registry::find_or_create_customer(
            conn,
            &CustomerDetails {
                name: &format!(
                    "{} {}",
                    FIRST_NAMES[(n + 3) % FIRST_NAMES.len()],
                    LAST_NAMES[n % LAST_NAMES.len()]
                ),
                phone: Some("+49 30 5550199"),
                email: Some(&format!("tomorrow{n}@demo.test")),
                address: Some(home.0),
                position: Some((lat, lon)),
                locale: None,
            },
        )?;
        // Slots of two to four hours between 8:00 and 18:00 in Berlin (UTC+1 in winter).
        let from = rng.gen_range(7..14);
        let window = TimeWindow {
            start: super::at(day, from).and_utc(),
            end: super::at(day, (from + rng.gen_range(2..5)).min(17)).and_utc(),
        };
        let kind = match n % 6 {
            0 => DecisionKind::Refund,
            1 | 4 => DecisionKind::Repair,
            _ => DecisionKind::Replacement,
        };
        let remedy = match kind {
            DecisionKind::Refund => Remedy::Refund,
            DecisionKind::Repair => Remedy::Repair,
            _ => Remedy::Replacement,
        };
        let claim = claims::file_claim(
            conn,
            sla,
            customer,
            dealer,
            &Filing {
                serial_no: serial_no.clone(),
                defect_category: "does_not_start".to_owned(),
                description: format!("Unit {serial_no} does not start."),
                requested_remedy: remedy,
                address: home.0.to_owned(),
                lat,
                lon,
                preferred_windows: vec![window],
                customer: None,
            },
        )?;
        let actor = claim
            .assignee_id
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("claim {} unassigned", claim.id)))?;
        let decision = validate_decision(DecisionInput {
            kind,
            reason: None,
            reason_code: None,
            refund_amount_cents: (kind == DecisionKind::Refund)
                .then(|| rng.gen_range(150..900) * 100),
            logistics: Some(Logistics::Courier),
            override_reason: None,
            partner_id: None,
        })
        .map_err(ApiError::Validation)?;
        claims::decide(conn, sla, &claim, actor, &decision)?;
        outbox::forget_claim(conn, claim.id)?;
    }
    Ok(CLAIMS)
}

fn serial(sku: &str, batch: usize, unit: usize) -> String {
    format!("HIST-{sku}-{}{unit:06}", batch + 1)
}

/// Hours a stage took: around its SLA, now and then over it.
fn stay_hours(rng: &mut StdRng, sla: &SlaPolicy, stage: ClaimStatus) -> i64 {
    let limit = sla.limit(stage).map_or(24, |l| l.num_hours().max(1));
    let share = if rng.gen_bool(0.12) {
        rng.gen_range(1.05..1.8)
    } else {
        rng.gen_range(0.1..0.9)
    };
    ((limit as f64) * share).round().max(1.0) as i64
}

/// One step of a past claim's life.
enum Step {
    Move(ClaimStatus, TransitionTrigger),
    Decide(DecisionKind),
    Received,
}

#[allow(clippy::too_many_arguments)]
fn past_claim(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    rng: &mut StdRng,
    filer: UserId,
    serial_no: &str,
    defect: &str,
    filed_at: NaiveDateTime,
    now: NaiveDateTime,
    n: usize,
) -> ApiResult<()> {
    let home = HOMES[n % HOMES.len()];
    let name = format!(
        "{} {}",
        FIRST_NAMES[n % FIRST_NAMES.len()],
        LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()]
    );
    let email = format!("history{n}@demo.test");
    let customer = registry::find_or_create_customer(
        conn,
        &CustomerDetails {
            name: &name,
            phone: None,
            email: Some(&email),
            address: Some(home.0),
            position: Some((home.1, home.2)),
            locale: None,
        },
    )?;
    let remedy = [Remedy::Replacement, Remedy::Refund, Remedy::Repair][rng.gen_range(0..3)];
    let mut claim = claims::file_claim(
        conn,
        sla,
        customer,
        filer,
        &Filing {
            serial_no: serial_no.to_owned(),
            defect_category: defect.to_owned(),
            description: format!("Unit {serial_no}: {}.", defect.replace('_', " ")),
            requested_remedy: remedy,
            address: home.0.to_owned(),
            lat: home.1,
            lon: home.2,
            preferred_windows: Vec::new(),
            customer: None,
        },
    )?;
    let actor = claim
        .assignee_id
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("claim {} unassigned", claim.id)))?;

    let kind = match rng.gen_range(0..100) {
        0..=39 => DecisionKind::Replacement,
        40..=59 => DecisionKind::Refund,
        60..=84 => DecisionKind::Repair,
        _ => DecisionKind::Reject,
    };
    let mut steps = vec![
        Step::Move(ClaimStatus::InfoCheck, TransitionTrigger::Manual),
        Step::Move(ClaimStatus::Diagnostics, TransitionTrigger::Manual),
        Step::Move(ClaimStatus::Decision, TransitionTrigger::Manual),
        Step::Decide(kind),
    ];
    if kind != DecisionKind::Reject {
        steps.push(Step::Received);
        if kind == DecisionKind::Repair {
            steps.push(Step::Move(
                ClaimStatus::QualityControl,
                TransitionTrigger::Depot,
            ));
        }
        steps.push(Step::Move(ClaimStatus::Closed, TransitionTrigger::Manual));
    }

    let mut stamped = 0;
    let mut last = filed_at;
    retime_events(conn, &claim, &mut stamped, last)?;
    for step in steps {
        let at = last
            + Duration::hours(stay_hours(rng, sla, claim.status))
            + Duration::minutes(rng.gen_range(0..60));
        // What has not happened yet stays undone: the claim is still open.
        if at > now - Duration::minutes(30) {
            break;
        }
        claim = match step {
            Step::Move(to, trigger) => {
                claims::transition(conn, sla, &claim, actor, to, trigger, None)?
            }
            Step::Decide(kind) => {
                let reject = kind == DecisionKind::Reject;
                let decision = validate_decision(DecisionInput {
                    kind,
                    reason: reject.then(|| {
                        "Our workshop's examination report is attached to the claim.".to_owned()
                    }),
                    reason_code: reject.then(|| {
                        [
                            RejectReason::Misuse,
                            RejectReason::MechanicalDamage,
                            RejectReason::NotCovered,
                        ][rng.gen_range(0..3)]
                    }),
                    refund_amount_cents: (kind == DecisionKind::Refund)
                        .then(|| rng.gen_range(150..900) * 100),
                    logistics: (!reject).then_some(Logistics::CustomerBrings),
                    override_reason: None,
                    partner_id: None,
                })
                .map_err(ApiError::Validation)?;
                claims::decide(conn, sla, &claim, actor, &decision)?.0
            }
            Step::Received => claims::received(conn, sla, &claim, actor, None)?,
        };
        retime_events(conn, &claim, &mut stamped, at)?;
        last = at;
    }
    let due = sla.limit(claim.status).map(|limit| last + limit);
    claims_db::retime(conn, claim.id, filed_at, last, due)?;
    outbox::forget_claim(conn, claim.id)?;
    Ok(())
}

/// Dates the claim's events recorded since the last call (`stamped` of them were) at `at`.
fn retime_events(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    stamped: &mut usize,
    at: NaiveDateTime,
) -> ApiResult<()> {
    let events = claims_db::history(conn, claim.id)?;
    for event in events.iter().skip(*stamped) {
        claims_db::retime_event(conn, event.id, at)?;
    }
    *stamped = events.len();
    Ok(())
}
