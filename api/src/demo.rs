//! The demo city: two depots, a catalogue and sales registry, customers, managers with a
//! head, a dispatcher, couriers with shifts for today and tomorrow, and claims in several
//! stages. Seeding is idempotent: a second run only resets the demo logins' password.

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use domain::claim::{ClaimStatus, Remedy, TransitionTrigger};
use domain::decision::{validate_decision, DecisionInput, DecisionKind};
use domain::sla::SlaPolicy;

use crate::auth::{password, Role};
use crate::db::fleet::{self, NewCourier, NewDepot, NewShift};
use crate::db::registry::{self, NewCustomer, NewProduct, NewSale};
use crate::db::{now, users, write_tx, DbConnection};
use crate::error::ApiError;
use crate::routes::users::add_user;
use crate::workflow::{self, NewClaimInput, TimeWindow};

pub const CUSTOMERS: usize = 8;
pub const COURIERS: usize = 4;

/// The demo logins, in the order they are printed.
pub fn logins() -> Vec<String> {
    let mut out: Vec<String> = [
        "admin",
        "head",
        "manager1",
        "manager2",
        "dispatcher",
        "dealer1",
    ]
    .iter()
    .map(|n| format!("{n}@demo.test"))
    .collect();
    out.extend((1..=COURIERS).map(|i| format!("courier{i}@demo.test")));
    out.extend((1..=CUSTOMERS).map(|i| format!("customer{i}@demo.test")));
    out
}

pub fn seed(conn: &mut DbConnection, sla: &SlaPolicy, demo_password: &str) -> anyhow::Result<()> {
    let hash = password::hash(demo_password)?;
    if users::find_by_email(conn, "admin@demo.test")?.is_some() {
        for email in logins() {
            if let Some(user) = users::find_by_email(conn, &email)? {
                users::set_password(conn, user.id, &hash)?;
            }
        }
        return Ok(());
    }
    write_tx(conn, |conn| seed_city(conn, sla, &hash))
        .map_err(|e| anyhow::anyhow!("demo seed failed: {e}"))
}

/// Customers' homes spread over a city-sized box (around Berlin's centre).
const HOMES: [(&str, f64, f64); CUSTOMERS] = [
    ("Alexanderplatz 1", 52.5219, 13.4132),
    ("Kastanienallee 12", 52.5380, 13.4090),
    ("Sonnenallee 80", 52.4800, 13.4380),
    ("Kantstrasse 30", 52.5060, 13.3080),
    ("Schlossstrasse 5", 52.4570, 13.3200),
    ("Frankfurter Allee 100", 52.5140, 13.4750),
    ("Muellerstrasse 40", 52.5490, 13.3530),
    ("Karl-Marx-Strasse 150", 52.4740, 13.4400),
];

fn seed_city(conn: &mut DbConnection, sla: &SlaPolicy, hash: &str) -> Result<(), ApiError> {
    let at = now();
    let depot = |name: &'static str, address: &'static str, lat, lon| NewDepot {
        name,
        address,
        lat,
        lon,
        opens_minute: 8 * 60,
        closes_minute: 20 * 60,
        time_zone: "Europe/Berlin",
        created_at: at,
    };
    let north = fleet::insert_depot(
        conn,
        &depot("North depot", "Seestrasse 1", 52.5510, 13.3520),
    )?;
    let south = fleet::insert_depot(
        conn,
        &depot("South depot", "Tempelhofer Damm 200", 52.4580, 13.3850),
    )?;

    let products = [
        (
            "WM-700",
            "Washing machine W700",
            "washing_machine",
            "W7",
            24,
            4,
        ),
        ("FR-300", "Fridge F300", "fridge", "F3", 24, 5),
        ("VC-10", "Vacuum cleaner V10", "vacuum", "V1", 12, 1),
        ("TV-55", "Television 55\"", "tv", "T5", 24, 2),
    ];
    for (sku, name, category, series, months, size) in products {
        registry::insert_product(
            conn,
            &NewProduct {
                sku,
                name,
                category,
                series: Some(series),
                warranty_months: months,
                size_units: size,
                created_at: at,
            },
        )?;
    }

    for (email, name, role) in [
        ("admin@demo.test", "Ada Admin", Role::Admin),
        ("head@demo.test", "Hedda Head", Role::Head),
        ("manager1@demo.test", "Max Manager", Role::Manager),
        ("manager2@demo.test", "Mia Manager", Role::Manager),
        ("dispatcher@demo.test", "Dora Dispatcher", Role::Dispatcher),
        ("dealer1@demo.test", "Dirk Dealer", Role::Dealer),
    ] {
        add_user(conn, email, name, role, hash, None)?;
    }

    let today = Utc::now().date_naive();
    for i in 1..=COURIERS {
        let user = add_user(
            conn,
            &format!("courier{i}@demo.test"),
            &format!("Courier {i}"),
            Role::Courier,
            hash,
            None,
        )?;
        let home = if i % 2 == 1 { &north } else { &south };
        let skills = if i % 2 == 1 { r#"["cash"]"# } else { "[]" };
        let courier_id = fleet::insert_courier(
            conn,
            &NewCourier {
                user_id: user.id,
                name: &user.name,
                phone: Some("+49 30 5550100"),
                capacity: 12,
                skills,
                home_depot_id: home.id,
                created_at: at,
            },
        )?
        .id;
        for date in [today, today + Duration::days(1)] {
            fleet::put_shift(conn, &shift(courier_id, date, home.id))?;
        }
    }

    let sold_recently = today - Duration::days(200);
    let sold_long_ago = today - Duration::days(3 * 365);
    let mut serials = Vec::new();
    for (i, (address, lat, lon)) in HOMES.iter().enumerate() {
        let n = i + 1;
        let customer = registry::insert_customer(
            conn,
            &NewCustomer {
                name: &format!("Customer {n}"),
                phone: Some("+49 30 5550000"),
                email: Some(&format!("customer{n}@demo.test")),
                address: Some(address),
                lat: Some(*lat),
                lon: Some(*lon),
                created_at: at,
            },
        )?;
        let user = add_user(
            conn,
            &format!("customer{n}@demo.test"),
            &format!("Customer {n}"),
            Role::Customer,
            hash,
            Some(customer.id),
        )?;
        let serial = format!("DEMO-{n:04}");
        registry::insert_sale(
            conn,
            &NewSale {
                serial_no: &serial,
                sku: products[i % products.len()].0,
                customer_id: Some(customer.id),
                // The last customer's unit is out of warranty.
                sold_at: if n == CUSTOMERS {
                    sold_long_ago
                } else {
                    sold_recently
                },
                warranty_until: None,
                created_at: at,
            },
        )?;
        serials.push((user.id, customer.id, serial, *address, *lat, *lon));
    }

    // Claims in several stages: the first customers' claims move further along.
    let tomorrow = today + Duration::days(1);
    for (i, (user_id, customer_id, serial, address, lat, lon)) in serials.iter().enumerate() {
        let window = |from: u32, to: u32| TimeWindow {
            start: tomorrow
                .and_time(NaiveTime::from_hms_opt(from, 0, 0).unwrap_or_default())
                .and_utc(),
            end: tomorrow
                .and_time(NaiveTime::from_hms_opt(to, 0, 0).unwrap_or_default())
                .and_utc(),
        };
        let claim = workflow::file_claim(
            conn,
            sla,
            &NewClaimInput {
                customer_id: *customer_id,
                filed_by: *user_id,
                serial_no: serial.clone(),
                defect_category: ["does_not_start", "noise", "leak", "display"][i % 4].to_owned(),
                description: format!("Unit {serial} stopped working properly."),
                requested_remedy: [Remedy::Replacement, Remedy::Refund, Remedy::Repair][i % 3],
                address: (*address).to_owned(),
                lat: *lat,
                lon: *lon,
                preferred_windows: vec![window(8 + (i as u32 % 4) * 2, 10 + (i as u32 % 4) * 2)],
            },
        )?;
        let actor = claim.assignee_id.unwrap_or(*user_id);
        let stages = [
            ClaimStatus::InfoCheck,
            ClaimStatus::Diagnostics,
            ClaimStatus::Decision,
        ];
        let depth = [3, 3, 3, 2, 1, 0, 3, 3][i];
        let mut claim = claim;
        for to in stages.iter().take(depth) {
            claim = workflow::transition(
                conn,
                sla,
                &claim,
                actor,
                *to,
                TransitionTrigger::Manual,
                Some("demo"),
            )?;
        }
        let decision = match i {
            0 => Some(DecisionInput {
                kind: DecisionKind::Replacement,
                reason: None,
                refund_amount_cents: None,
            }),
            1 => Some(DecisionInput {
                kind: DecisionKind::Refund,
                reason: None,
                refund_amount_cents: Some(49_900),
            }),
            6 => Some(DecisionInput {
                kind: DecisionKind::Repair,
                reason: None,
                refund_amount_cents: None,
            }),
            7 => Some(DecisionInput {
                kind: DecisionKind::Reject,
                reason: Some("The warranty ended before the defect was reported.".to_owned()),
                refund_amount_cents: None,
            }),
            _ => None,
        };
        if let Some(input) = decision {
            let decision = validate_decision(input).map_err(ApiError::Validation)?;
            workflow::decide(conn, sla, &claim, actor, &decision)?;
        }
    }
    Ok(())
}

fn shift(courier_id: i64, date: NaiveDate, depot_id: i64) -> NewShift {
    // Shift times are UTC: 07:00-17:00 UTC is 08:00-18:00 in Berlin in winter.
    let at = |h: u32| date.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default());
    NewShift {
        courier_id,
        date,
        start_at: at(7),
        end_at: at(17),
        start_depot_id: depot_id,
        end_depot_id: depot_id,
        break_minutes: Some(30),
        break_start_at: Some(at(11)),
        break_end_at: Some(at(14)),
    }
}
