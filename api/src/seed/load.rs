//! A large day for the load benchmark (`claimroute seed-load`, used by `benches/load/run.sh`):
//! depots, couriers with shifts on one date, a dispatcher, and `couriers x stops` approved
//! claims whose courier jobs fall on that date, spread over a city. The claims go through
//! the same workflow steps as the HTTP handlers (`app::claims::file_claim`, `transition`,
//! `decide`), so the jobs are real ones the planner and the couriers' API see.
//!
//! Seeding refuses a database that already holds a load day (its dispatcher exists):
//! the benchmark always starts on a fresh database.

use chrono::{Duration, NaiveDate};
use domain::claim::Remedy;
use domain::decision::{DecisionInput, DecisionKind};
use domain::sla::SlaPolicy;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{account, at, courier, ensure_products, review_and_decide, Product};
use crate::app::claims::{self, Filing};
use crate::app::fleet::{self, BreakInput, DepotInput, ShiftInput};
use crate::app::registry::{self, Buyer, CustomerDetails, SaleInput};
use crate::auth::{password, Role};
use crate::db::fleet::DepotRow;
use crate::db::jobs::JobRow;
use crate::db::types::{TimeWindow, UserId};
use crate::db::{users, write_tx, DbConnection};
use crate::error::ApiResult;

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
pub const LAT: (f64, f64) = (52.45, 52.58);
pub const LON: (f64, f64) = (13.25, 13.55);

/// Depots made when the database has fewer than two (the demo's are reused otherwise).
const DEPOTS: [(&str, &str, f64, f64); 4] = [
    ("Load depot North", "Seestrasse 10", 52.5560, 13.3530),
    ("Load depot East", "Landsberger Allee 300", 52.5300, 13.4900),
    ("Load depot South", "Tempelhofer Damm 210", 52.4630, 13.3850),
    ("Load depot West", "Kaiserdamm 50", 52.5100, 13.2850),
];

/// Small appliances, so a van takes a day's worth: (sku, name, category, size units).
pub const PRODUCTS: [Product; 4] = [
    ("LD-VC", "Vacuum cleaner L1", "vacuum", None, 24, 1),
    ("LD-CM", "Coffee machine L2", "coffee", None, 24, 1),
    ("LD-MW", "Microwave L3", "microwave", None, 24, 2),
    ("LD-TV", "Television 43\" L4", "tv", None, 24, 2),
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
                jobs += file_approved_claim(
                    conn,
                    sla,
                    (fleet.dealer_id, spec.date),
                    &mut rng,
                    i,
                    |rng| slot(rng, spec.date),
                )?
                .len();
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
    dealer_id: UserId,
}

fn seed_fleet(conn: &mut DbConnection, spec: &LoadSpec, hash: &str) -> ApiResult<Fleet> {
    let mut depots: Vec<DepotRow> = fleet::list_depots(conn)?;
    if depots.len() < 2 {
        for (name, address, lat, lon) in DEPOTS {
            depots.push(fleet::create_depot(
                conn,
                &DepotInput {
                    name,
                    address,
                    lat,
                    lon,
                    opens: at(spec.date, 7).time(),
                    closes: at(spec.date, 21).time(),
                    time_zone: "Europe/Berlin",
                },
            )?);
        }
    }
    ensure_products(conn, &PRODUCTS)?;
    account(conn, hash, DISPATCHER, "Load Dispatcher", Role::Dispatcher)?;
    let dealer_id = account(conn, hash, DEALER, "Load Dealer", Role::Dealer)?;
    for m in 1..=MANAGERS {
        account(
            conn,
            hash,
            &format!("loadmanager{m}@load.test"),
            &format!("Load Manager {m}"),
            Role::Manager,
        )?;
    }
    // A van takes every unit of its day at once: at most 2 units per visit either way.
    let capacity = i32::try_from(spec.stops * 3).unwrap_or(i32::MAX);
    for n in 1..=spec.couriers {
        let depot = &depots[(n - 1) % depots.len()];
        // Every other courier may pay out refunds.
        courier(
            conn,
            hash,
            &courier_email(n),
            &format!("Load Courier {n}"),
            capacity,
            n % 2 == 1,
            depot.id,
            &[(spec.date, shift(spec.date, depot.id))],
        )?;
    }
    Ok(Fleet {
        depots: depots.len(),
        dealer_id,
    })
}

/// 06:00-18:00 UTC with a 30-minute break between 10:00 and 13:00 (times are UTC).
fn shift(date: NaiveDate, depot_id: i64) -> ShiftInput {
    let at = |hour| at(date, hour).and_utc();
    ShiftInput {
        start: at(6),
        end: at(18),
        start_depot_id: depot_id,
        end_depot_id: depot_id,
        break_: Some(BreakInput {
            minutes: 30,
            earliest: at(10),
            latest: at(13),
        }),
    }
}

/// The customer's slot on the day (UTC): a third take any time, the others a 4-hour slot.
pub fn slot(rng: &mut StdRng, date: NaiveDate) -> TimeWindow {
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

/// Files claim `i` for a new customer with a unit in warranty (filed by `dealer` for a
/// visit on `date` in the slot `window` draws), reviews it and approves it; returns the
/// jobs the decision made.
pub fn file_approved_claim(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    (dealer, date): (UserId, NaiveDate),
    rng: &mut StdRng,
    i: usize,
    window: impl FnOnce(&mut StdRng) -> TimeWindow,
) -> ApiResult<Vec<JobRow>> {
    let n = i + 1;
    let lat = rng.gen_range(LAT.0..LAT.1);
    let lon = rng.gen_range(LON.0..LON.1);
    let address = format!("Loadstrasse {n}, Berlin");
    let customer_id = registry::find_or_create_customer(
        conn,
        &CustomerDetails {
            name: &format!("Load Customer {n}"),
            phone: Some("+49 30 5550000"),
            email: Some(&format!("loadcustomer{n}@load.test")),
            address: Some(&address),
            position: Some((lat, lon)),
            locale: None,
        },
    )?;
    let serial = format!("LOAD-{}-{n:06}", date.format("%Y%m%d"));
    let product = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
    registry::register_sale(
        conn,
        &SaleInput {
            serial_no: &serial,
            sku: product.0,
            sold_at: crate::clock::now().date_naive() - Duration::days(rng.gen_range(30..300)),
            warranty_until: None,
            batch_id: None,
            buyer: Buyer::Existing(customer_id),
        },
    )?;
    // Half exchanges, a quarter refunds (cash), a quarter pickups for repair.
    let (remedy, kind) = match rng.gen_range(0..4) {
        0 | 1 => (Remedy::Replacement, DecisionKind::Replacement),
        2 => (Remedy::Refund, DecisionKind::Refund),
        _ => (Remedy::Repair, DecisionKind::Repair),
    };
    let claim = claims::file_claim(
        conn,
        sla,
        customer_id,
        dealer,
        &Filing {
            serial_no: serial.clone(),
            defect_category: ["does_not_start", "noise", "leak", "display"][i % 4].to_owned(),
            description: format!("Unit {serial} stopped working properly."),
            requested_remedy: remedy,
            address,
            lat,
            lon,
            preferred_windows: vec![window(rng)],
            customer: None,
        },
    )?;
    let decision = DecisionInput {
        kind,
        reason: None,
        reason_code: None,
        refund_amount_cents: (kind == DecisionKind::Refund).then(|| rng.gen_range(50..500) * 100),
        logistics: None,
        override_reason: None,
        partner_id: None,
    };
    review_and_decide(conn, sla, claim, 3, Some(decision))
}
