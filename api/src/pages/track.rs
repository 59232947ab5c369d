//! A claim's public tracking page (`/track/{token}`, the link in the customer's mails):
//! mobile-first, the stages she understands, the decision and its reason, the planned visit
//! and, once the courier has set off, his ETA and where he is (if his phone shares it). Nothing internal: no ids, no staff, no
//! internal notes (the same selection as the tracking API). Rate-limited per address; a
//! wrong token is a plain 404 page.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use minijinja::context;

use super::{PageCtx, PageError};
use crate::app::{claims, slots};
use crate::db::types::TimeWindow;
use crate::error::ApiError;
use crate::routes::track::{limit, tracked_claim};

/// The stages a customer understands, in order; each claim status belongs to one.
const STAGES: [&str; 5] = ["received", "review", "decided", "visit", "done"];

fn stage_of(status: &str) -> usize {
    match status {
        "new" => 0,
        "info_check" | "diagnostics" | "decision" => 1,
        "approved" | "rejected" | "withdrawn" => 2,
        "in_fulfilment" | "in_repair" | "quality_control" => 3,
        _ => 4,
    }
}

/// What the page says after the customer chose a time (`?booked=1` or `?gone=1`).
#[derive(Debug, serde::Deserialize)]
pub struct Outcome {
    booked: Option<u8>,
    gone: Option<u8>,
}

pub async fn page(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    outcome: web::Query<Outcome>,
) -> HttpResponse {
    let result = async {
        limit(&ctx.state, &req)?;
        let token = path.into_inner();
        let form_token = token.clone();
        let shared = ctx.state.clone();
        let (tracked, zone, offered) = ctx
            .state
            .db(move |conn| {
                let tracked = claims::tracked(conn, &token)?;
                let zone = claims::claim_zone(conn, &tracked.claim)?;
                // The times she may move her visit to; none once it is under way or over.
                let offered = match slots::offer(
                    conn,
                    &shared.settings.dispatch,
                    &token,
                    slots::DEFAULT_DAYS,
                    Utc::now(),
                ) {
                    Ok(offered) => offered,
                    Err(ApiError::Conflict(_)) => Vec::new(),
                    // The page shows where the claim stands even when the slots cannot be
                    // worked out (the road service down): only the choice is missing.
                    Err(other) => {
                        tracing::warn!(error = %other, "no slots for a tracking page");
                        Vec::new()
                    }
                };
                Ok((tracked, zone, offered))
            })
            .await?;
        let shown = tracked_claim(&tracked);
        // A planned visit is the stage she waits for, whatever the claim's own status.
        let reached = match shown.visit {
            Some(_) => stage_of(&shown.status).max(3),
            None => stage_of(&shown.status),
        };
        let ended_early = matches!(shown.status.as_str(), "rejected" | "withdrawn");
        let stages: Vec<_> = STAGES
            .iter()
            .enumerate()
            .filter(|(i, _)| !ended_early || *i <= reached)
            .map(|(i, name)| {
                let state = match i.cmp(&reached) {
                    std::cmp::Ordering::Less => "done",
                    std::cmp::Ordering::Equal => "current",
                    std::cmp::Ordering::Greater => "ahead",
                };
                context! { name, state }
            })
            .collect();
        let local = |t: DateTime<Utc>| Local::at(t, zone);
        let visit = shown.visit.as_ref().map(|v| {
            context! {
                kind => v.kind,
                day => v.date.day(), month => v.date.month(), weekday => v.date.weekday().num_days_from_monday(),
                windows => v.windows.iter().map(|w| context! { from => local(w.start).clock, to => local(w.end).clock }).collect::<Vec<_>>(),
                eta => v.eta.filter(|_| v.on_the_way).map(|t| local(t).clock),
                estimate => v.estimate.as_ref().map(|e| context! { from => local(e.from).clock, to => local(e.to).clock }),
                delayed => v.delayed,
                courier => v.courier.as_ref().map(|c| context! {
                    lat => c.lat, lon => c.lon, seen => local(c.seen_at).clock,
                }),
            }
        });
        let reason = tracked
            .claim
            .decision_reason
            .clone()
            .filter(|_| shown.status == "rejected");
        let history: Vec<_> = shown
            .history
            .iter()
            .map(|e| context! { at => local(e.at), kind => e.kind, status => e.status, note => e.note })
            .collect();
        let choices: Vec<_> = offered
            .iter()
            .map(|s| {
                let from = local(s.start);
                context! {
                    value => format!("{}|{}", s.start.to_rfc3339(), s.end.to_rfc3339()),
                    weekday => s.start.with_timezone(&zone).weekday().num_days_from_monday(),
                    day => from.day, month => from.month, from => from.clock,
                    to => local(s.end).clock,
                }
            })
            .collect();
        let page = ctx.render(
            "track",
            context! {
                claim => shown, stages, visit, reason, history, ended_early, choices,
                token => form_token,
                booked => outcome.booked.is_some(), gone => outcome.gone.is_some(),
                home => context! { lat => tracked.claim.lat, lon => tracked.claim.lon },
                tiles => ctx.state.settings.map_tiles_url,
            },
        )?;
        let mut page = page;
        // The link is the credential: it must not leak to other sites through a Referer.
        page.headers_mut().insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("no-referrer"),
        );
        Ok(page)
    }
    .await;
    ctx.finish(result)
}

/// The slot chosen on the page: `start|end` as offered.
#[derive(Debug, serde::Deserialize)]
pub struct SlotForm {
    slot: String,
    lang: Option<String>,
}

/// Books the time chosen on the page and comes back to it saying how it went. No CSRF
/// token: the page has no session, and the link itself is the credential another site
/// would need.
pub async fn book(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<SlotForm>,
) -> HttpResponse {
    let result = async {
        limit(&ctx.state, &req)?;
        let token = path.into_inner();
        let parse = |t: &str| t.parse::<DateTime<Utc>>().ok();
        let slot = form
            .slot
            .split_once('|')
            .and_then(|(start, end)| {
                Some(TimeWindow {
                    start: parse(start)?,
                    end: parse(end)?,
                })
            })
            .filter(|w| w.start < w.end)
            .ok_or(PageError::NotFound)?;
        let lang = match form.lang.as_deref() {
            Some("ru") => "ru",
            _ => "en",
        };
        let shared = ctx.state.clone();
        let booking = token.clone();
        let booked = ctx
            .state
            .write(move |conn| {
                slots::book(conn, &shared.settings.dispatch, &booking, slot, Utc::now())
            })
            .await;
        let outcome = match booked {
            Ok(_) => "booked",
            Err(ApiError::ConflictWith { .. } | ApiError::Conflict(_)) => "gone",
            Err(other) => return Err(other.into()),
        };
        Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/track/{token}?lang={lang}&{outcome}=1#choose"),
            ))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .finish())
    }
    .await;
    ctx.finish(result)
}

/// A time as the customer reads it, in her depot's zone.
#[derive(Debug, serde::Serialize)]
struct Local {
    clock: String,
    day: u32,
    month: u32,
}

impl Local {
    fn at(t: DateTime<Utc>, zone: Tz) -> Self {
        let there = t.with_timezone(&zone);
        Self {
            clock: there.format("%H:%M").to_string(),
            day: there.day(),
            month: there.month(),
        }
    }
}
