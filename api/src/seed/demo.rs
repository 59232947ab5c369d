//! The demo city: two depots, a contract workshop and a supplier, a catalogue and sales registry, customers, managers with a
//! head, a dispatcher, couriers with shifts for today and tomorrow, and claims in several
//! stages. Seeding is idempotent: a second run only resets the demo logins' password.

use chrono::{Duration, NaiveDate, NaiveTime};
use domain::claim::Remedy;
use domain::decision::{DecisionInput, DecisionKind, RejectReason};
use domain::locale::Locale;
use domain::partner::PartnerKind;
use domain::sla::SlaPolicy;

use super::{account, at, courier, ensure_products, review_and_decide, Product};
use crate::app::accounts::{self, NewAccount};
use crate::app::claims::{self, Filing};
use crate::app::fleet::{self, BreakInput, DepotInput, ShiftInput};
use crate::app::partners::{self, PartnerInput};
use crate::app::registry::{self, Buyer, CustomerDetails, SaleInput};
use crate::auth::{password, Role};
use crate::db::types::TimeWindow;
use crate::db::{users, write_tx, DbConnection};
use crate::error::ApiError;

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

/// Seeds the demo city with its shifts and visits on `today` and the day after.
pub fn seed(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    demo_password: &str,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let hash = password::hash(demo_password)?;
    if users::find_by_email(conn, "admin@demo.test")?.is_some() {
        for email in logins() {
            if let Some(user) = users::find_by_email(conn, &email)? {
                users::set_password(conn, user.id, &hash)?;
            }
        }
        return Ok(());
    }
    write_tx(conn, |conn| seed_city(conn, sla, &hash, today))
        .map_err(|e| anyhow::anyhow!("demo seed failed: {e}"))
}

/// Customers' homes spread over a city-sized box (around Berlin's centre).
pub(super) const HOMES: [(&str, f64, f64); CUSTOMERS] = [
    ("Alexanderplatz 1", 52.5219, 13.4132),
    ("Kastanienallee 12", 52.5380, 13.4090),
    ("Sonnenallee 80", 52.4800, 13.4380),
    ("Kantstrasse 30", 52.5060, 13.3080),
    ("Schlossstrasse 5", 52.4570, 13.3200),
    ("Frankfurter Allee 100", 52.5140, 13.4750),
    ("Muellerstrasse 40", 52.5490, 13.3530),
    ("Karl-Marx-Strasse 150", 52.4740, 13.4400),
];

pub(super) const PRODUCTS: [Product; 4] = [
    (
        "WM-700",
        "Washing machine W700",
        "washing_machine",
        Some("W7"),
        24,
        4,
    ),
    ("FR-300", "Fridge F300", "fridge", Some("F3"), 24, 5),
    ("VC-10", "Vacuum cleaner V10", "vacuum", Some("V1"), 12, 1),
    ("TV-55", "Television 55\"", "tv", Some("T5"), 24, 2),
];

fn seed_city(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    hash: &str,
    today: NaiveDate,
) -> Result<(), ApiError> {
    let depot = |name, address, lat, lon| DepotInput {
        name,
        address,
        lat,
        lon,
        opens: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
        closes: NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
        time_zone: "Europe/Berlin",
    };
    let north = fleet::create_depot(
        conn,
        &depot("North depot", "Seestrasse 1", 52.5510, 13.3520),
    )?;
    let south = fleet::create_depot(
        conn,
        &depot("South depot", "Tempelhofer Damm 200", 52.4580, 13.3850),
    )?;
    ensure_products(conn, &PRODUCTS)?;
    seed_partners(conn)?;

    for (email, name, role) in [
        ("admin@demo.test", "Ada Admin", Role::Admin),
        ("head@demo.test", "Hedda Head", Role::Head),
        ("manager1@demo.test", "Max Manager", Role::Manager),
        ("manager2@demo.test", "Mia Manager", Role::Manager),
        ("dispatcher@demo.test", "Dora Dispatcher", Role::Dispatcher),
        ("dealer1@demo.test", "Dirk Dealer", Role::Dealer),
    ] {
        account(conn, hash, email, name, role)?;
    }

    for i in 1..=COURIERS {
        let home = if i % 2 == 1 { &north } else { &south };
        let shifts = [today, today + Duration::days(1)].map(|date| (date, shift(date, home.id)));
        courier(
            conn,
            hash,
            &format!("courier{i}@demo.test"),
            &format!("Courier {i}"),
            12,
            i % 2 == 1,
            home.id,
            &shifts,
        )?;
    }

    let sold_recently = today - Duration::days(200);
    let sold_long_ago = today - Duration::days(3 * 365);
    let mut serials = Vec::new();
    for (i, (address, lat, lon)) in HOMES.iter().enumerate() {
        let n = i + 1;
        let email = format!("customer{n}@demo.test");
        // Two of the demo's customers read Russian.
        let locale = if n % 4 == 2 { Locale::Ru } else { Locale::En };
        let name = format!("Customer {n}");
        let customer_id = registry::find_or_create_customer(
            conn,
            &CustomerDetails {
                name: &name,
                phone: Some("+49 30 5550000"),
                email: Some(&email),
                address: Some(address),
                position: Some((*lat, *lon)),
                locale: Some(locale),
            },
        )?;
        let user = accounts::add_user(
            conn,
            &NewAccount {
                email: &email,
                name: &name,
                role: Role::Customer,
                password_hash: hash,
                customer_id: Some(customer_id),
                locale: Some(locale),
            },
        )?;
        let serial = format!("DEMO-{n:04}");
        registry::register_sale(
            conn,
            &SaleInput {
                serial_no: &serial,
                sku: PRODUCTS[i % PRODUCTS.len()].0,
                // The last customer's unit is out of warranty.
                sold_at: if n == CUSTOMERS {
                    sold_long_ago
                } else {
                    sold_recently
                },
                warranty_until: None,
                batch_id: None,
                buyer: Buyer::Existing(customer_id),
            },
        )?;
        serials.push((user.id, customer_id, serial, *address, *lat, *lon));
    }

    // Claims in several stages: the first customers' claims move further along.
    let tomorrow = today + Duration::days(1);
    for (i, (user_id, customer_id, serial, address, lat, lon)) in serials.into_iter().enumerate() {
        let from = 8 + (i as u32 % 4) * 2;
        let claim = claims::file_claim(
            conn,
            sla,
            customer_id,
            user_id,
            &Filing {
                serial_no: serial.clone(),
                defect_category: ["does_not_start", "noise", "leak", "display"][i % 4].to_owned(),
                description: format!("Unit {serial} stopped working properly."),
                requested_remedy: [Remedy::Replacement, Remedy::Refund, Remedy::Repair][i % 3],
                address: address.to_owned(),
                lat,
                lon,
                preferred_windows: vec![TimeWindow {
                    start: at(tomorrow, from).and_utc(),
                    end: at(tomorrow, from + 2).and_utc(),
                }],
                customer: None,
            },
        )?;
        let depth = [3, 3, 3, 2, 1, 0, 3, 3][i];
        let decision = |kind, reason: Option<&str>, refund| DecisionInput {
            kind,
            reason: reason.map(str::to_owned),
            reason_code: (kind == DecisionKind::Reject).then_some(RejectReason::Expired),
            refund_amount_cents: refund,
            logistics: None,
            override_reason: None,
            partner_id: None,
        };
        let decision = match i {
            0 => Some(decision(DecisionKind::Replacement, None, None)),
            1 => Some(decision(DecisionKind::Refund, None, Some(49_900))),
            6 => Some(decision(DecisionKind::Repair, None, None)),
            7 => Some(decision(
                DecisionKind::Reject,
                Some("The warranty ended before the defect was reported."),
                None,
            )),
            _ => None,
        };
        review_and_decide(conn, sla, claim, depth, decision)?;
    }
    Ok(())
}

/// 07:00-17:00 UTC (08:00-18:00 in Berlin in winter), a 30-minute break between 11 and 14.
/// A contract workshop for the large appliances and a supplier of every product, so a
/// manager has somewhere to send a unit and somewhere to collect a replacement.
fn seed_partners(conn: &mut DbConnection) -> Result<(), ApiError> {
    let hours = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let partners = [
        PartnerInput {
            kind: PartnerKind::Workshop,
            name: "Spree Appliance Repair".to_owned(),
            address: "Storkower Strasse 120".to_owned(),
            lat: 52.5330,
            lon: 13.4560,
            opens: hours(9),
            closes: hours(18),
            time_zone: "Europe/Berlin".to_owned(),
            phone: Some("+49 30 5550100".to_owned()),
            email: Some("service@spree-repair.demo.test".to_owned()),
            categories: vec!["washing_machine".to_owned(), "fridge".to_owned()],
        },
        PartnerInput {
            kind: PartnerKind::Supplier,
            name: "Havel Wholesale".to_owned(),
            address: "Nonnendammallee 80".to_owned(),
            lat: 52.5370,
            lon: 13.2560,
            opens: hours(7),
            closes: hours(16),
            time_zone: "Europe/Berlin".to_owned(),
            phone: Some("+49 30 5550200".to_owned()),
            email: Some("orders@havel-wholesale.demo.test".to_owned()),
            categories: Vec::new(),
        },
    ];
    for partner in partners {
        partners::create(conn, partner)?;
    }
    Ok(())
}

fn shift(date: NaiveDate, depot_id: i64) -> ShiftInput {
    let at = |hour| at(date, hour).and_utc();
    ShiftInput {
        start: at(7),
        end: at(17),
        start_depot_id: depot_id,
        end_depot_id: depot_id,
        break_: Some(BreakInput {
            minutes: 30,
            earliest: at(11),
            latest: at(14),
        }),
    }
}
