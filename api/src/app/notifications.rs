//! Who hears of what, and how. Every change people should hear about writes an outbox
//! event in its own transaction (`app::claims` and the others); the delivery worker
//! (`workers::outbox`) fans each event out once, here, into deliveries: a mail per person
//! (customer, manager, heads), rendered from the event's template in the recipient's
//! language, and a webhook call per subscription that wants the event. Deliveries are
//! then sent at least once, each carrying the event's id so receivers can drop
//! duplicates.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use domain::locale::Locale;
use hmac::{Hmac, Mac};
use minijinja::context;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::config::NotifySettings;
use crate::db::claims::{ClaimRow, Scope};
use crate::db::deliveries::{self, DeliveryRow, NewDelivery, EMAIL, PENDING, WEBHOOK};
use crate::db::outbox::{self, OutboxRow};
use crate::db::types::{ClaimId, UserId};
use crate::db::users::UserRow;
use crate::db::{claims, now, registry, users, webhooks, DbConnection};
use crate::error::ApiResult;
use crate::templates::Templates;

/// Who receives a mail about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    Customer,
    Assignee,
    /// The manager a claim was taken from (he is away).
    PreviousAssignee,
    Heads,
}

/// A courier's stop at a workshop or supplier: not a visit of hers.
fn at_partner(payload: &Value) -> bool {
    matches!(
        payload["job_kind"].as_str(),
        Some("drop_off" | "collect" | "collect_new")
    )
}

/// The mails an event causes: (recipient, template).
fn mails_for(event: &str, payload: &Value) -> Vec<(To, &'static str)> {
    let status = payload["status"].as_str().unwrap_or_default();
    match event {
        "claim.filed" => vec![
            (To::Customer, "claim_received"),
            (To::Assignee, "manager_new_claim"),
        ],
        "claim.status_changed" => {
            let note = payload["note"]
                .as_str()
                .is_some_and(|n| !n.trim().is_empty());
            match status {
                "info_check" if note => vec![(To::Customer, "info_needed")],
                "in_repair" => vec![(To::Customer, "in_repair")],
                "closed" => vec![(To::Customer, "claim_closed")],
                _ => Vec::new(),
            }
        }
        "claim.decided" if payload["decision"] == "reject" => {
            vec![(To::Customer, "decision_rejected")]
        }
        "claim.decided" => vec![(To::Customer, "decision_approved")],
        "claim.reassigned" if payload["absent"] == true => vec![
            (To::Assignee, "manager_reassigned"),
            (To::PreviousAssignee, "manager_handed_over"),
        ],
        "claim.reassigned" => vec![(To::Assignee, "manager_reassigned")],
        "claim.visit_planned" => vec![(To::Customer, "visit_planned")],
        "visit.departed" => vec![(To::Customer, "courier_on_the_way")],
        "visit.delayed" => vec![(To::Customer, "visit_delayed")],
        "visit.rebooked" => vec![(To::Customer, "visit_rebooked")],
        // The courier's stop at a contract workshop is no visit of hers; the claim's own
        // steps (in repair, back on its way) tell her what it means.
        "job.completed" | "job.failed" if at_partner(payload) => Vec::new(),
        "job.completed" => vec![(To::Customer, "visit_done")],
        "job.failed" => vec![(To::Customer, "visit_failed")],
        "job.cancelled" => vec![(To::Customer, "visit_cancelled")],
        "claim.visits_exhausted" => vec![(To::Assignee, "manager_visits_exhausted")],
        "claim.repair_done" => vec![(To::Customer, "repair_done")],
        "claim.withdrawn" => vec![
            (To::Customer, "claim_withdrawn"),
            (To::Assignee, "manager_claim_withdrawn"),
        ],
        "claim.overdue" => vec![
            (To::Assignee, "claim_overdue"),
            (To::Heads, "claim_overdue"),
        ],
        "claim.feedback" if payload["rating"].as_i64().is_some_and(|r| r <= 2) => {
            vec![(To::Heads, "low_rating")]
        }
        _ => Vec::new(),
    }
}

/// A person a mail goes to.
struct Person {
    user_id: Option<UserId>,
    email: String,
    name: String,
    locale: Locale,
}

impl Person {
    fn of_user(u: UserRow, default: Locale) -> Option<Self> {
        u.active.then(|| Self {
            user_id: Some(u.id),
            email: u.email,
            name: u.name,
            locale: u.locale.unwrap_or(default),
        })
    }
}

/// Fans out up to `batch` events into their deliveries, in the caller's write transaction;
/// returns how many events.
pub fn fan_out(
    conn: &mut DbConnection,
    templates: &Templates,
    settings: &NotifySettings,
    batch: i64,
) -> ApiResult<usize> {
    let events = outbox::take_for_fan_out(conn, batch)?;
    let hooks = webhooks::active(conn)?;
    for event in &events {
        let claim = match event.claim_id {
            Some(id) => claims::find(conn, id, Scope::All)?,
            None => None,
        };
        if let Some(claim) = &claim {
            for (to, template) in mails_for(&event.event, &event.payload) {
                for person in recipients(conn, claim, &event.payload, to, settings.default_locale)?
                {
                    let ctx = mail_context(conn, claim, event, &person, settings)?;
                    let (subject, body) = templates.render(template, person.locale, &ctx)?;
                    deliveries::insert(
                        conn,
                        &NewDelivery {
                            outbox_id: event.id,
                            event: event.event.clone(),
                            claim_id: Some(claim.id),
                            channel: EMAIL,
                            recipient: person.email,
                            user_id: person.user_id,
                            webhook_id: None,
                            template: Some(template.to_owned()),
                            locale: Some(person.locale.as_str().to_owned()),
                            subject: Some(subject),
                            body,
                            state: PENDING,
                            next_attempt_at: now(),
                            created_at: now(),
                        },
                    )?;
                }
            }
        }
        // A subscription hears of what happens from its creation on, not of a backlog the
        // workers had not fanned out yet when it was made.
        let subscribed = hooks
            .iter()
            .filter(|h| h.wants(&event.event) && h.created_at <= event.created_at);
        for hook in subscribed {
            deliveries::insert(
                conn,
                &NewDelivery {
                    outbox_id: event.id,
                    event: event.event.clone(),
                    claim_id: event.claim_id,
                    channel: WEBHOOK,
                    recipient: hook.url.clone(),
                    user_id: None,
                    webhook_id: Some(hook.id),
                    template: None,
                    locale: None,
                    subject: None,
                    body: envelope(event).to_string(),
                    state: PENDING,
                    next_attempt_at: now(),
                    created_at: now(),
                },
            )?;
        }
        outbox::mark_fanned_out(conn, event.id)?;
    }
    Ok(events.len())
}

/// The body of a webhook call: the event's type, when it happened, and its payload.
fn envelope(event: &OutboxRow) -> Value {
    json!({
        "type": event.event,
        "timestamp": event.created_at.and_utc(),
        "data": event.payload,
    })
}

fn recipients(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    payload: &Value,
    to: To,
    default: Locale,
) -> ApiResult<Vec<Person>> {
    let user = |conn: &mut DbConnection, id: Option<UserId>| -> ApiResult<Option<Person>> {
        Ok(match id {
            Some(id) => users::find(conn, id)?.and_then(|u| Person::of_user(u, default)),
            None => None,
        })
    };
    Ok(match to {
        To::Customer => registry::find_customer(conn, claim.customer_id)?
            .and_then(|c| {
                Some(Person {
                    user_id: None,
                    email: c.email?,
                    name: c.name,
                    locale: c.locale.unwrap_or(default),
                })
            })
            .into_iter()
            .collect(),
        To::Assignee => {
            let id = payload["assignee_id"]
                .as_i64()
                .map(UserId)
                .or(claim.assignee_id);
            user(conn, id)?.into_iter().collect()
        }
        To::PreviousAssignee => {
            let id = payload["previous_assignee_id"].as_i64().map(UserId);
            user(conn, id)?.into_iter().collect()
        }
        To::Heads => users::heads(conn)?
            .into_iter()
            .filter_map(|u| Person::of_user(u, default))
            .collect(),
    })
}

/// What a mail template sees: the claim, the recipient, and the event with its times and
/// amounts written out in the claim's local time.
fn mail_context(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    event: &OutboxRow,
    person: &Person,
    settings: &NotifySettings,
) -> ApiResult<minijinja::Value> {
    let tz = crate::app::claims::claim_zone(conn, claim)?;
    let at = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string();
    let parse = |v: &Value| v.as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok());
    let product = match &claim.sku {
        Some(sku) => registry::find_product(conn, sku)?.map(|p| p.name),
        None => None,
    };
    let tracking_url = format!(
        "{}/track/{}",
        settings.public_url,
        claim.tracking_token.as_deref().unwrap_or_default()
    );
    // The deadline the event announced (the stage it entered), else the claim's current one.
    let due = parse(&event.payload["stage_due_at"])
        .or_else(|| {
            claim
                .stage_due_at
                .filter(|_| claim.status.is_open())
                .map(|d| d.and_utc())
        })
        .map(at);
    let mut extra = event.payload.clone();
    if let Some(due) = parse(&event.payload["due_at"]) {
        extra["due_at"] = json!(at(due));
    }
    if let Some(eta) = parse(&event.payload["eta"]) {
        extra["eta"] = json!(eta.with_timezone(&tz).format("%H:%M").to_string());
    }
    let window = event.payload["windows"]
        .as_array()
        .and_then(|w| w.first().cloned())
        .unwrap_or_else(|| event.payload["windows"].clone());
    if let (Some(start), Some(end)) = (parse(&window["start"]), parse(&window["end"])) {
        extra["window"] = json!(format!(
            "{} – {}",
            start.with_timezone(&tz).format("%H:%M"),
            end.with_timezone(&tz).format("%H:%M %Z")
        ));
        if extra["date"].is_null() {
            extra["date"] = json!(start.with_timezone(&tz).format("%Y-%m-%d").to_string());
        }
    }
    if let Some(cents) = event.payload["refund_amount_cents"].as_i64() {
        extra["refund"] = json!(format!("{}.{:02}", cents / 100, cents % 100));
    }
    if let Some(job) = event.payload["job_id"].as_i64() {
        if extra["job_kind"].is_null() {
            if let Some(j) = crate::db::jobs::find(conn, crate::db::types::JobId(job))? {
                extra["job_kind"] = json!(j.kind);
            }
        }
    }
    Ok(context! {
        recipient => context! { name => person.name.clone() },
        claim => context! {
            number => claim.number.clone(),
            status => claim.status.as_str(),
            serial_no => claim.serial_no.clone(),
            product => product,
            defect => claim.defect_category.clone(),
            requested_remedy => claim.requested_remedy.as_str(),
            logistics => claim.logistics.map(|l| l.as_str()),
            due => due,
            tracking_url => tracking_url.clone(),
            rating_url => format!("{tracking_url}#rate"),
        },
        event => minijinja::Value::from_serialize(&extra),
    })
}

/// The `webhook-signature` of a call after the Standard Webhooks convention: `v1,` and the
/// base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the secret's bytes (the part
/// after `whsec_`, base64).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> anyhow::Result<String> {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| anyhow::anyhow!("webhook secret is not base64: {e}"))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&key).map_err(|e| anyhow::anyhow!("webhook secret: {e}"))?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// When to try a failed delivery again: the base delay doubled per attempt made, capped,
/// with up to a quarter of jitter so that a receiver coming back is not hit by every retry
/// at once.
pub fn backoff(attempts: i32, base: Duration, max: Duration) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    let delay = base.saturating_mul(2_u32.saturating_pow(exponent)).min(max);
    let jitter = delay.mul_f64(rand::random::<f64>() * 0.25);
    delay + jitter
}

/// The state of a delivery as people read it: `pending`, `failed` (retrying), `sent` or
/// `dead` (given up).
pub fn shown_state(d: &DeliveryRow) -> &'static str {
    match d.state.as_str() {
        deliveries::SENT => "sent",
        deliveries::DEAD => "dead",
        _ if d.last_error.is_some() => "failed",
        _ => "pending",
    }
}

/// A notification about a claim, as `GET /claims/{id}/notifications` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    /// The event that caused it (also the `webhook-id` receivers see: `msg_<event_id>`).
    pub event_id: i64,
    pub event: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The e-mail address, or the webhook's URL.
    pub to: String,
    pub template: Option<String>,
    pub locale: Option<String>,
    pub subject: Option<String>,
    /// `pending`, `failed` (will be tried again), `sent` or `dead` (given up).
    pub state: String,
    /// Sends begun: mails or calls made, whatever came of them.
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for Notification {
    fn from(d: DeliveryRow) -> Self {
        let state = shown_state(&d).to_owned();
        let utc = |t: NaiveDateTime| Utc.from_utc_datetime(&t);
        Self {
            id: d.id,
            event_id: d.outbox_id,
            event: d.event,
            channel: d.channel,
            to: d.recipient,
            template: d.template,
            locale: d.locale,
            subject: d.subject,
            next_attempt_at: (d.state == PENDING).then(|| utc(d.next_attempt_at)),
            state,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: utc(d.created_at),
            sent_at: d.sent_at.map(utc),
        }
    }
}

/// What was sent about a claim the caller may see.
pub fn of_claim(
    conn: &mut DbConnection,
    user: &crate::auth::extract::AuthUser,
    id: ClaimId,
) -> ApiResult<Vec<Notification>> {
    crate::app::claims::visible(conn, user, id)?;
    Ok(deliveries::of_claim(conn, id)?
        .into_iter()
        .map(Notification::from)
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(3600);
        for (attempt, least) in [(1, 5), (2, 10), (3, 20), (4, 40)] {
            let d = backoff(attempt, base, max);
            assert!(d >= Duration::from_secs(least), "{attempt}: {d:?}");
            assert!(
                d <= Duration::from_secs(least).mul_f64(1.25),
                "{attempt}: {d:?}"
            );
        }
        assert!(backoff(40, base, max) <= max.mul_f64(1.25));
    }

    #[test]
    fn every_mail_renders_in_both_languages() {
        let templates = Templates::new(None);
        let ctx: Value = json!({
            "recipient": {"name": "Ada"},
            "claim": {"number": "CLM-2026-000001", "status": "approved", "serial_no": "S-1",
                      "product": "Kettle", "defect": "leak", "requested_remedy": "repair",
                      "logistics": "courier", "due": "2026-12-03 14:00 CET",
                      "tracking_url": "https://x.test/track/t", "rating_url": "https://x.test/track/t#rate"},
            "event": {"note": "Which colour?", "decision": "reject", "reason_code": "misuse",
                      "reason": "Opened", "date": "2026-12-04", "window": "10:00 – 12:00 CET",
                      "job_kind": "exchange", "attempts": 3, "stage": "decision",
                      "due_at": "2026-12-02 10:00 CET", "rating": 1, "warranty": "in_warranty"},
        });
        let names = [
            "claim_received",
            "info_needed",
            "decision_approved",
            "decision_rejected",
            "visit_planned",
            "courier_on_the_way",
            "visit_delayed",
            "visit_rebooked",
            "visit_done",
            "visit_failed",
            "visit_cancelled",
            "in_repair",
            "repair_done",
            "claim_closed",
            "claim_withdrawn",
            "manager_new_claim",
            "manager_reassigned",
            "manager_handed_over",
            "manager_visits_exhausted",
            "claim_overdue",
            "low_rating",
            "manager_claim_withdrawn",
        ];
        for name in names {
            for locale in [Locale::En, Locale::Ru] {
                let (subject, body) = templates.render(name, locale, &ctx).unwrap();
                assert!(
                    subject.contains("CLM-2026-000001"),
                    "{name}/{locale}: {subject}"
                );
                assert!(!subject.contains('\n'), "{name}/{locale}");
                assert!(
                    body.contains("https://x.test/track/t"),
                    "{name}/{locale}: {body}"
                );
            }
        }
        let (_, rejected) = templates
            .render("decision_rejected", Locale::Ru, &ctx)
            .unwrap();
        assert!(rejected.contains("нарушением инструкции"), "{rejected}");
    }
}
