//! The dispatcher's console: the plans of a day (start a run and watch its best cost
//! fall), and a plan on a map and a timeline per courier, with its unassigned jobs, stop
//! moves and locks (`PATCH /plans/{id}`), the violations they cause, publication and the
//! day's progress. The page is a shell; `plan.js` reads and edits the plan through the API.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};
use domain::plan::PlanObjective;
use minijinja::context;
use serde::Deserialize;

use super::PageCtx;
use crate::app::{fleet, plans};
use crate::auth::Role;
use crate::db::types::PlanId;
use crate::routes::plans::PlanResponse;

const DISPATCH: [Role; 2] = [Role::Dispatcher, Role::Admin];

#[derive(Debug, Deserialize)]
pub struct DayQuery {
    date: Option<NaiveDate>,
}

pub async fn day(ctx: PageCtx, query: web::Query<DayQuery>) -> HttpResponse {
    let result = async {
        ctx.staff(&DISPATCH)?;
        let date = query
            .date
            .unwrap_or_else(|| Utc::now().date_naive() + chrono::Duration::days(1));
        let (depots, day_plans) = ctx
            .state
            .db(move |conn| {
                Ok((
                    fleet::list_depots(conn)?,
                    plans::list(conn, Some(date), None, 200)?,
                ))
            })
            .await?;
        let depots: Vec<_> = depots
            .into_iter()
            .map(|d| context! { id => d.id, name => d.name })
            .collect();
        let day_plans: Vec<PlanResponse> = day_plans
            .into_iter()
            .rev()
            .map(PlanResponse::from)
            .collect();
        let settings = &ctx.state.settings.dispatch;
        ctx.render(
            "plans",
            context! {
                date, depots, plans => day_plans,
                // The default (`cost`) first, as the API has them.
                objectives => PlanObjective::ALL.map(PlanObjective::as_str),
                default_limit_ms => settings.default_time_limit.as_millis() as u64,
                max_limit_ms => settings.max_time_limit.as_millis() as u64,
            },
        )
    }
    .await;
    ctx.finish(result)
}

pub async fn plan(ctx: PageCtx, path: web::Path<i64>) -> HttpResponse {
    let result = async {
        ctx.staff(&DISPATCH)?;
        let id = PlanId(path.into_inner());
        let (plan, depots) = ctx
            .state
            .db(move |conn| Ok((plans::find(conn, id)?, fleet::list_depots(conn)?)))
            .await?;
        // Times read in the depot's zone, wherever the dispatcher sits.
        let zone = depots
            .iter()
            .find(|d| Some(d.id) == plan.depot_id)
            .or(depots.first())
            .map_or("UTC", |d| d.time_zone.as_str())
            .to_owned();
        ctx.render(
            "plan",
            context! {
                plan => PlanResponse::from(plan),
                tiles => ctx.state.settings.map_tiles_url,
                zone,
            },
        )
    }
    .await;
    ctx.finish(result)
}
