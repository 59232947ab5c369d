//! The papers of a claim and of a courier's day: the act given at filing, the act of the
//! decision (exchange, refund, repair, or the rejection letter), and the route sheet a
//! courier carries. Each is read under the same rules as its JSON (a customer sees only
//! her claims, a courier only his route), filled into its template in the reader's
//! language and laid out as PDF by [`crate::documents`].

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use domain::claim::ClaimStatus;
use domain::locale::Locale;
use domain::words::{number_in_words, Plural};
use serde_json::{json, Value};

use crate::app::claims::{self as claim_rules, history};
use crate::app::visits::route::{self, CourierRoute};
use crate::auth::extract::AuthUser;
use crate::db::claims::ClaimRow;
use crate::db::types::{ClaimId, CourierId, PlanId, UserId};
use crate::db::{claims, fleet, jobs, plans, registry, users, DbConnection};
use crate::documents::{self, DocumentInfo, RouteMap};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use crate::state::AppState;

/// The documents of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimDocument {
    /// Given when the claim is filed.
    ClaimAct,
    /// Given with the decision: exchange, refund, repair, or the rejection letter.
    DecisionAct,
}

impl ClaimDocument {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "claim_act.pdf" => Some(Self::ClaimAct),
            "decision_act.pdf" => Some(Self::DecisionAct),
            _ => None,
        }
    }

    fn template(self) -> &'static str {
        match self {
            Self::ClaimAct => "claim_act",
            Self::DecisionAct => "decision_act",
        }
    }
}

/// Which language a reader asked for: `?lang=` first, then `Accept-Language`, then the
/// language of the person the document is for.
#[derive(Debug, Clone, Copy, Default)]
pub struct LanguageAsk {
    pub query: Option<Locale>,
    pub accept: Option<Locale>,
}

impl LanguageAsk {
    fn or_owners(self, owner: Option<Locale>) -> Locale {
        self.query.or(self.accept).or(owner).unwrap_or_default()
    }
}

/// A rendered document and the name it is saved under.
pub struct Pdf {
    pub bytes: Vec<u8>,
    pub file_name: String,
}

/// A claim's document, if `user` may see the claim (404 otherwise).
pub fn claim_document(
    conn: &mut DbConnection,
    state: &AppState,
    user: &AuthUser,
    id: ClaimId,
    kind: ClaimDocument,
    language: LanguageAsk,
) -> ApiResult<Pdf> {
    let claim = claim_rules::visible(conn, user, id)?;
    if kind == ClaimDocument::DecisionAct && claim.decision.is_none() {
        return Err(ApiError::Conflict(messages::NO_DECISION_YET.to_owned()));
    }
    let customer = registry::find_customer(conn, claim.customer_id)?.ok_or(ApiError::NotFound)?;
    let locale = language.or_owners(customer.locale);
    let tz = claim_rules::claim_zone(conn, &claim)?;
    let mut context = claim_context(conn, state, &claim, tz)?;
    context["customer"] = json!({
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "address": claim.address,
    });
    if kind == ClaimDocument::DecisionAct {
        context["decision"] = decision_context(conn, state, &claim, tz, locale)?;
    }
    let (title, markup) = state
        .templates
        .document(kind.template(), locale, &context)?;
    let bytes = documents::render(
        &markup,
        DocumentInfo {
            title: &title,
            language: locale.as_str(),
        },
        None,
    )?;
    Ok(Pdf {
        bytes,
        file_name: format!("{}-{}.pdf", claim.number, kind.template().replace('_', "-")),
    })
}

fn local(at: NaiveDateTime, tz: Tz) -> DateTime<Tz> {
    at.and_utc().with_timezone(&tz)
}

fn stamp(at: NaiveDateTime, tz: Tz) -> String {
    local(at, tz).format("%Y-%m-%d %H:%M").to_string()
}

/// What every claim document shows about the claim.
fn claim_context(
    conn: &mut DbConnection,
    state: &AppState,
    claim: &ClaimRow,
    tz: Tz,
) -> ApiResult<Value> {
    let product = match &claim.sku {
        Some(sku) => registry::find_product(conn, sku)?,
        None => None,
    };
    let sla = &state.settings.sla;
    // The review a customer is promised at filing: receipt, examination and decision.
    let review = [
        ClaimStatus::New,
        ClaimStatus::Diagnostics,
        ClaimStatus::Decision,
    ]
    .iter()
    .filter_map(|s| sla.limit(*s))
    .fold(Duration::zero(), |sum, limit| sum + limit);
    let tracking_url = claim
        .tracking_token
        .as_ref()
        .map(|token| format!("{}/track/{token}", state.settings.notify.public_url));
    Ok(json!({
        "claim": {
            "number": claim.number,
            "filed_at": stamp(claim.created_at, tz),
            "filed_on": local(claim.created_at, tz).format("%Y-%m-%d").to_string(),
            "zone": tz.name(),
            "serial_no": claim.serial_no,
            "sku": claim.sku,
            "product": product.as_ref().map(|p| p.name.clone()),
            "series": product.as_ref().and_then(|p| p.series.clone()),
            "defect": claim.defect_category,
            "description": claim.description,
            "requested_remedy": claim.requested_remedy.as_str(),
            "warranty": claim.warranty_status,
            "warranty_until": claim.warranty_until.map(|d| d.to_string()),
            "status": claim.status.as_str(),
            "review_due": (review > Duration::zero())
                .then(|| stamp(claim.created_at + review, tz)),
            "tracking_url": tracking_url,
        }
    }))
}

/// An amount of money in figures and in words, for a refund act.
fn money(cents: i64, locale: Locale) -> Value {
    let cents = cents.max(0);
    let (major, minor) = ((cents / 100) as u64, (cents % 100) as u64);
    let (group, decimal) = match locale {
        Locale::En => (',', '.'),
        Locale::Ru => ('\u{a0}', ','),
    };
    let digits = major.to_string();
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(d);
    }
    json!({
        "figures": format!("{grouped}{decimal}{minor:02}"),
        "words": number_in_words(major, locale),
        "major": major,
        "minor": format!("{minor:02}"),
        "major_plural": Plural::of(major, locale).as_str(),
        "minor_plural": Plural::of(minor, locale).as_str(),
    })
}

/// What a decision act adds: the remedy, who decided and when, and the visit it needs.
fn decision_context(
    conn: &mut DbConnection,
    state: &AppState,
    claim: &ClaimRow,
    tz: Tz,
    locale: Locale,
) -> ApiResult<Value> {
    let decided = claims::history(conn, claim.id)?
        .into_iter()
        .rev()
        .find(|e| {
            e.kind == history::TRANSITION
                && matches!(e.to_status.as_deref(), Some("approved" | "rejected"))
        });
    let manager = match decided.as_ref().and_then(|e| e.actor_id) {
        Some(id) => users::find(conn, id)?.map(|u| u.name),
        None => None,
    };
    let jobs = jobs::for_claim(conn, claim.id)?;
    let first_visit = jobs.iter().min_by_key(|j| j.id);
    let visit = first_visit.map(|job| {
        let window = job.windows.iter().min_by_key(|w| w.start);
        json!({
            "kind": job.kind.as_str(),
            "date": job.date.map(|d| d.to_string()),
            "window": window.map(|w| format!(
                "{} – {}",
                w.start.with_timezone(&tz).format("%H:%M"),
                w.end.with_timezone(&tz).format("%H:%M"),
            )),
        })
    });
    // A repaired unit is promised back after the workshop's and the final check's time.
    let sla = &state.settings.sla;
    let repair_time = [ClaimStatus::InRepair, ClaimStatus::QualityControl]
        .iter()
        .filter_map(|s| sla.limit(*s))
        .fold(Duration::zero(), |sum, limit| sum + limit);
    let decided_at = decided.as_ref().map_or(claim.updated_at, |e| e.at);
    let pickup_day: NaiveDate = first_visit
        .and_then(|j| j.date)
        .unwrap_or_else(|| local(decided_at, tz).date_naive());
    let expected_return = (pickup_day + repair_time).to_string();
    Ok(json!({
        "kind": claim.decision,
        "reason": claim.decision_reason,
        "reason_code": claim.reason_code.map(|r| r.as_str()),
        "logistics": claim.logistics.map(|l| l.as_str()).unwrap_or("courier"),
        "decided_at": stamp(decided_at, tz),
        "decided_on": local(decided_at, tz).format("%Y-%m-%d").to_string(),
        "manager": manager,
        "refund": claim.refund_amount_cents.map(|c| money(c, locale)),
        "visit": visit,
        "expected_return": expected_return,
    }))
}

/// A courier's route sheet for a plan (dispatchers: any plan's route).
pub fn plan_route_sheet(
    conn: &mut DbConnection,
    state: &AppState,
    plan_id: PlanId,
    courier_id: CourierId,
    language: LanguageAsk,
) -> ApiResult<Pdf> {
    let plan = plans::find(conn, plan_id)?.ok_or(ApiError::NotFound)?;
    let route_row = plans::routes(conn, plan_id)?
        .into_iter()
        .find(|r| r.courier_id == courier_id)
        .ok_or(ApiError::NotFound)?;
    let view = route::load_route(conn, plan.date, route_row.id)?.ok_or(ApiError::NotFound)?;
    route_sheet(conn, state, courier_id, plan.depot_id, &view, language)
}

/// The signed-in courier's sheet for his published route of `date`.
pub fn my_route_sheet(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: UserId,
    date: NaiveDate,
    language: LanguageAsk,
) -> ApiResult<Pdf> {
    let courier_id = fleet::courier_for_user(conn, user_id)?.ok_or(ApiError::NotFound)?;
    let view = match plans::published_route_of_user(conn, user_id, date)? {
        Some(at) => route::load_route(conn, date, at.route_id)?,
        None => None,
    }
    .unwrap_or_else(|| route::empty_route(date));
    let depot = view
        .plan
        .map(|p| plans::find(conn, p))
        .transpose()?
        .flatten()
        .and_then(|p| p.depot_id);
    route_sheet(conn, state, courier_id, depot, &view, language)
}

fn route_sheet(
    conn: &mut DbConnection,
    state: &AppState,
    courier_id: CourierId,
    plan_depot: Option<i64>,
    view: &CourierRoute,
    language: LanguageAsk,
) -> ApiResult<Pdf> {
    let courier = fleet::find_courier(conn, courier_id)?.ok_or(ApiError::NotFound)?;
    let user = users::find(conn, courier.user_id)?;
    let locale = language.or_owners(user.as_ref().and_then(|u| u.locale));
    let depot = fleet::find_depot(conn, plan_depot.unwrap_or(courier.home_depot_id))?;
    let tz: Tz = depot
        .as_ref()
        .and_then(|d| d.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let clock = |at: &Option<String>| {
        at.as_deref()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .map(|t| t.with_timezone(&tz).format("%H:%M").to_string())
    };
    let mut cash_cents = 0;
    let mut number = 0;
    let mut map = RouteMap {
        depot: depot.as_ref().map(|d| (d.lat, d.lon)),
        stops: Vec::new(),
    };
    let stops: Vec<Value> = view
        .stops
        .iter()
        .map(|stop| {
            if stop.kind == "break" {
                return json!({
                    "kind": "break",
                    "from": clock(&stop.start),
                    "to": clock(&stop.depart),
                });
            }
            number += 1;
            if let (Some(lat), Some(lon)) = (stop.lat, stop.lon) {
                map.stops.push((number, lat, lon));
            }
            let cash = stop.bring.as_ref().and_then(|b| b.cash);
            cash_cents += cash.unwrap_or(0);
            let windows: Vec<String> = stop
                .windows
                .iter()
                .filter_map(|w| {
                    Some(format!(
                        "{}–{}",
                        clock(&Some(w.from.clone()))?,
                        clock(&Some(w.to.clone()))?
                    ))
                })
                .collect();
            json!({
                "number": number,
                "kind": stop.kind,
                "claim": stop.claim,
                "status": stop.status,
                "eta": clock(&stop.arrive),
                "start": clock(&stop.start),
                "window": windows.join(", "),
                "address": stop.addr,
                "name": stop.name,
                "phone": stop.phone,
                "bring": stop.bring.as_ref().map(|b| json!({
                    "product": b.product,
                    "sku": b.sku,
                    "serial": b.serial,
                    "cash": b.cash.map(|c| money(c, locale)),
                })),
                "take": stop.take.as_ref().and_then(|t| t.serial.clone()),
                // The replacement collected at a supplier: what to ask for.
                "take_new": stop.take.as_ref().filter(|t| t.serial.is_none()).map(|t| json!({
                    "product": t.product,
                    "sku": t.sku,
                })),
            })
        })
        .collect();
    let context = json!({
        "date": view.date.to_string(),
        "courier": { "name": courier.name, "phone": courier.phone },
        "depot": depot.as_ref().map(|d| json!({ "name": d.name, "address": d.address })),
        "zone": tz.name(),
        "start": clock(&view.start),
        "end": clock(&view.end),
        "distance_km": view.dist_m.map(|m| format!("{:.1}", m as f64 / 1000.0)),
        "visits": number,
        "stops": stops,
        "cash": (cash_cents > 0).then(|| money(cash_cents, locale)),
        "plan": view.plan,
        "revision": view.rev,
    });
    let (title, markup) = state.templates.document("route_sheet", locale, &context)?;
    let bytes = documents::render(
        &markup,
        DocumentInfo {
            title: &title,
            language: locale.as_str(),
        },
        Some(&map),
    )?;
    Ok(Pdf {
        bytes,
        file_name: format!("route-{}-{}.pdf", view.date, courier.id.0),
    })
}
