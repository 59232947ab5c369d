//! A large day for the load benchmark (`claimroute seed-load`, used by `benches/load/run.sh`):
//! depots, couriers with shifts on one date, a dispatcher, and `couriers x stops` approved
//! claims whose courier jobs fall on that date, spread over a city. The claims go through
//! the same workflow steps as the HTTP handlers (`workflow::file_claim`, `transition`,
//! `decide`), so the jobs are real ones the planner and the couriers' API see.
//!
//! Seeding refuses a database that already holds a load day (its dispatcher exists):
//! the benchmark always starts on a fresh database.

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use domain::claim::{ClaimStatus, Remedy, TransitionTrigger};
use domain::decision::{validate_decision, DecisionInput, DecisionKind};
use domain::sla::SlaPolicy;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::auth::{password, Role};
use crate::db::fleet::{self, DepotRow, NewCourier, NewDepot, NewShift};
use crate::db::registry::{self, NewCustomer, NewProduct, NewSale};
use crate::db::{now, users, write_tx, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::routes::users::add_user;
use crate::workflow::{self, NewClaimInput, TimeWindow};

/// The dispatcher of the load day; its presence marks a database as already seeded.
pub const DISPATCHER: &str = "loaddispatcher@load.test";
/// Files the claims on the customers' behalf.
pub const DEALER: &str = "loaddealer@load.test";
/// Managers who review and decide the claims.
pub const MANAGERS: usize = 4;
/// Claims filed per write transaction.
const BATCH: usize = 100;

/// The login of courier `n` (1-based).
pub fn courier_email(n: usize) -> String {
    format!("loadcourier{n}@load.test")
}

#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub couriers: usize,
    /// Jobs per courier: `couriers * stops` claims are filed.
    pub stops: usize,
    pub date: NaiveDate,
    pub password: String,
    /// Seeds the positions, slots and remedies, so a day can be made again.
    pub seed: u64,
    /// Show a progress bar.
    pub progress: bool,
}

#[derive(Debug, Clone, Default)]
pub struct LoadSummary {
    pub depots: usize,
    pub couriers: usize,
    pub claims: usize,
    pub jobs: usize,
}

/// The city box the customers live in (central Berlin, about 15 x 20 km).
const LAT: (f64, f64) = (52.45, 52.58);
const LON: (f64, f64) = (13.25, 13.55);

/// Depots made when the database has fewer than two (the demo's are reused otherwise).
const DEPOTS: [(&str, &str, f64, f64); 4] = [
    ("Load depot North", "Seestrasse 10", 52.5560, 13.3530),
    ("Load depot East", "Landsberger Allee 300", 52.5300, 13.4900),
    ("Load depot South", "Tempelhofer Damm 210", 52.4630, 13.3850),
    ("Load depot West", "Kaiserdamm 50", 52.5100, 13.2850),
];

/// Small appliances, so a van takes a day's worth: (sku, name, category, size units).
const PRODUCTS: [(&str, &str, &str, i32); 4] = [
    ("LD-VC", "Vacuum cleaner L1", "vacuum", 1),
    ("LD-CM", "Coffee machine L2", "coffee", 1),
    ("LD-MW", "Microwave L3", "microwave", 2),
    ("LD-TV", "Television 43\" L4", "tv", 2),
];

pub fn seed_load(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    spec: &LoadSpec,
) -> anyhow::Result<LoadSummary> {
    anyhow::ensure!(spec.couriers > 0, "--couriers must be at least 1");
    anyhow::ensure!(spec.stops > 0, "--stops must be at least 1");
    anyhow::ensure!(
        spec.password.chars().count() >= 8,
        "--password {}",
        crate::messages::PASSWORD_TOO_SHORT
    );
    if users::find_by_email(conn, DISPATCHER)?.is_some() {
        anyhow::bail!(
            "this database already holds a load day ({DISPATCHER} exists); \
             seed-load needs a fresh database"
        );
    }
    // One hash for every load login: hashing 200 passwords would take a while for nothing.
    let hash = password::hash(&spec.password)?;
    let mut rng = StdRng::seed_from_u64(spec.seed);

    let fleet = write_tx(conn, |conn| seed_fleet(conn, spec, &hash))
        .map_err(|e| anyhow::anyhow!("seeding the fleet failed: {e}"))?;

    let total = spec.couriers * spec.stops;
    let bar = if spec.progress {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "claims {bar:40} {pos}/{len} [{elapsed_precise}] eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut summary = LoadSummary {
        depots: fleet.depots,
        couriers: spec.couriers,
        ..LoadSummary::default()
    };
    let mut n = 0;
    while n < total {
        let upto = (n + BATCH).min(total);
        let jobs = write_tx(conn, |conn| -> ApiResult<usize> {
            let mut jobs = 0;
            for i in n..upto {
                jobs += file_approved_claim(conn, sla, spec, &fleet, &mut rng, i)?;
            }
            Ok(jobs)
        })
        .map_err(|e| anyhow::anyhow!("filing claims {n}..{upto} failed: {e}"))?;
        summary.claims += upto - n;
        summary.jobs += jobs;
        bar.set_position(upto as u64);
        n = upto;
    }
    bar.finish_and_clear();
    Ok(summary)
}

struct Fleet {
    depots: usize,
    dealer_id: i64,
}

fn seed_fleet(conn: &mut DbConnection, spec: &LoadSpec, hash: &str) -> ApiResult<Fleet> {
    let at = now();
    let mut depots: Vec<DepotRow> = fleet::list_depots(conn)?;
    if depots.len() < 2 {
        for (name, address, lat, lon) in DEPOTS {
            depots.push(fleet::insert_depot(
                conn,
                &NewDepot {
                    name,
                    address,
                    lat,
                    lon,
                    opens_minute: 7 * 60,
                    closes_minute: 21 * 60,
                    time_zone: "Europe/Berlin",
                    created_at: at,
                },
            )?);
        }
    }
    for (sku, name, category, size_units) in PRODUCTS {
        if registry::find_product(conn, sku)?.is_none() {
            registry::insert_product(
                conn,
                &NewProduct {
                    sku,
                    name,
                    category,
                    series: None,
                    warranty_months: 24,
                    size_units,
                    created_at: at,
                },
            )?;
        }
    }
    add_user(
        conn,
        DISPATCHER,
        "Load Dispatcher",
        Role::Dispatcher,
        hash,
        None,
    )?;
    let dealer = add_user(conn, DEALER, "Load Dealer", Role::Dealer, hash, None)?;
    for m in 1..=MANAGERS {
        add_user(
            conn,
            &format!("loadmanager{m}@load.test"),
            &format!("Load Manager {m}"),
            Role::Manager,
            hash,
            None,
        )?;
    }
    // A van takes every unit of its day at once: at most 2 units per visit either way.
    let capacity = i32::try_from(spec.stops * 3).unwrap_or(i32::MAX);
    for n in 1..=spec.couriers {
        let user = add_user(
            conn,
            &courier_email(n),
            &format!("Load Courier {n}"),
            Role::Courier,
            hash,
            None,
        )?;
        let depot = &depots[(n - 1) % depots.len()];
        // Every other courier may pay out refunds.
        let skills = if n % 2 == 1 { r#"["cash"]"# } else { "[]" };
        let courier = fleet::insert_courier(
            conn,
            &NewCourier {
                user_id: user.id,
                name: &user.name,
                phone: Some("+49 30 5550199"),
                capacity,
                skills,
                home_depot_id: depot.id,
                created_at: at,
            },
        )?;
        fleet::put_shift(conn, &shift(courier.id, spec.date, depot.id))?;
    }
    Ok(Fleet {
        depots: depots.len(),
        dealer_id: dealer.id,
    })
}

/// 06:00-18:00 UTC with a 30-minute break between 10:00 and 13:00 (times are UTC).
fn shift(courier_id: i64, date: NaiveDate, depot_id: i64) -> NewShift {
    NewShift {
        courier_id,
        date,
        start_at: at(date, 6),
        end_at: at(date, 18),
        start_depot_id: depot_id,
        end_depot_id: depot_id,
        break_minutes: Some(30),
        break_start_at: Some(at(date, 10)),
        break_end_at: Some(at(date, 13)),
    }
}

fn at(date: NaiveDate, hour: u32) -> chrono::NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default())
}

/// The customer's slot on the day (UTC): a third take any time, the others a 4-hour slot.
fn slot(rng: &mut StdRng, date: NaiveDate) -> TimeWindow {
    let (from, to) = match rng.gen_range(0..6) {
        0 | 1 => (7, 17),
        2 => (7, 11),
        3 => (9, 13),
        4 => (11, 15),
        _ => (13, 17),
    };
    TimeWindow {
        start: at(date, from).and_utc(),
        end: at(date, to).and_utc(),
    }
}

/// Files claim `i` for a new customer with a unit in warranty, reviews it and approves it;
/// returns how many jobs the decision made.
fn file_approved_claim(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    spec: &LoadSpec,
    fleet: &Fleet,
    rng: &mut StdRng,
    i: usize,
) -> ApiResult<usize> {
    let at_now = now();
    let n = i + 1;
    let lat = rng.gen_range(LAT.0..LAT.1);
    let lon = rng.gen_range(LON.0..LON.1);
    let address = format!("Loadstrasse {n}, Berlin");
    let customer = registry::insert_customer(
        conn,
        &NewCustomer {
            name: &format!("Load Customer {n}"),
            phone: Some("+49 30 5550000"),
            email: Some(&format!("loadcustomer{n}@load.test")),
            address: Some(&address),
            lat: Some(lat),
            lon: Some(lon),
            created_at: at_now,
        },
    )?;
    let serial = format!("LOAD-{}-{n:06}", spec.date.format("%Y%m%d"));
    let product = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
    registry::insert_sale(
        conn,
        &NewSale {
            serial_no: &serial,
            sku: product.0,
            customer_id: Some(customer.id),
            sold_at: Utc::now().date_naive() - Duration::days(rng.gen_range(30..300)),
            warranty_until: None,
            created_at: at_now,
        },
    )?;
    // Half exchanges, a quarter refunds (cash), a quarter pickups for repair.
    let (remedy, kind) = match rng.gen_range(0..4) {
        0 | 1 => (Remedy::Replacement, DecisionKind::Replacement),
        2 => (Remedy::Refund, DecisionKind::Refund),
        _ => (Remedy::Repair, DecisionKind::Repair),
    };
    let claim = workflow::file_claim(
        conn,
        sla,
        &NewClaimInput {
            customer_id: customer.id,
            filed_by: fleet.dealer_id,
            serial_no: serial.clone(),
            defect_category: ["does_not_start", "noise", "leak", "display"][i % 4].to_owned(),
            description: format!("Unit {serial} stopped working properly."),
            requested_remedy: remedy,
            address,
            lat,
            lon,
            preferred_windows: vec![slot(rng, spec.date)],
        },
    )?;
    let actor = claim
        .assignee_id
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("claim {} unassigned", claim.id)))?;
    let mut claim = claim;
    for to in [
        ClaimStatus::InfoCheck,
        ClaimStatus::Diagnostics,
        ClaimStatus::Decision,
    ] {
        claim = workflow::transition(
            conn,
            sla,
            &claim,
            actor,
            to,
            TransitionTrigger::Manual,
            Some("load"),
        )?;
    }
    let decision = validate_decision(DecisionInput {
        kind,
        reason: None,
        refund_amount_cents: (kind == DecisionKind::Refund).then(|| rng.gen_range(50..500) * 100),
    })
    .map_err(ApiError::Validation)?;
    let (_, jobs) = workflow::decide(conn, sla, &claim, actor, &decision)?;
    Ok(jobs.len())
}
