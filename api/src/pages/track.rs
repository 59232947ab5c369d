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

use super::PageCtx;
use crate::app::claims;
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

pub async fn page(ctx: PageCtx, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let result = async {
        limit(&ctx.state, &req)?;
        let token = path.into_inner();
        let (tracked, zone) = ctx
            .state
            .db(move |conn| {
                let tracked = claims::tracked(conn, &token)?;
                let zone = claims::claim_zone(conn, &tracked.claim)?;
                Ok((tracked, zone))
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
        let page = ctx.render(
            "track",
            context! {
                claim => shown, stages, visit, reason, history, ended_early,
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
