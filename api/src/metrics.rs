//! Prometheus metrics (`GET /metrics`, OpenMetrics text). Counters and histograms are
//! recorded as things happen in this process: HTTP requests, plan runs, deliveries,
//! escalations. What lives in the database (the outbox backlog, overdue claims) and the
//! pool's state are read when scraped, so every replica reports the same backlog and a
//! scrape costs three small grouped counts.
//!
//! Each application owns its registry instead of a process-wide recorder, so that the
//! servers a test process starts count apart.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::db::{self, DbConnection, Pool};

/// The media type of the OpenMetrics text format, which Prometheus asks for.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route of a request that matched none (so unknown paths cannot explode the labels).
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/api/v1/claims/{id}`), never the concrete path.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    channel: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// How a plan run ended.
#[derive(Debug, Clone, Copy)]
pub enum PlanOutcome {
    /// A draft was stored.
    Finished,
    /// The planner refused the day's problem.
    Refused,
    /// Another worker declared the run lost.
    Lost,
    Failed,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryOutcome {
    Sent,
    /// Failed; tried again later.
    Retry,
    /// Failed for the last time.
    Dead,
    /// Failed after its lease ran out, while a newer attempt had the delivery (nothing
    /// recorded: the newer attempt's outcome stands).
    Superseded,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<RouteLabels>,
    plan_runs: Family<OutcomeLabels, Counter>,
    plan_seconds: Histogram,
    plan_unassigned: Histogram,
    deliveries: Family<DeliveryLabels, Counter>,
    escalations: Family<StageLabels, Counter>,
    outbox_events: Gauge,
    outbox_backlog: Family<ChannelLabels, Gauge>,
    overdue: Family<StageLabels, Gauge>,
    visits_delayed: Gauge,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    /// One scrape at a time: a scrape resets the gauges it reads from the database.
    scrape: parking_lot::Mutex<()>,
}

fn request_histogram() -> Histogram {
    // 1 ms .. 10 s: route reads answer in milliseconds, uploads and edits in tens.
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("claimroute");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        let request_seconds: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(request_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            request_seconds.clone(),
        );
        let plan_runs = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "plan_runs",
            "Plan runs this process computed, by outcome (finished, refused, lost, failed)",
            plan_runs.clone(),
        );
        let plan_seconds = Histogram::new([
            0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
        ]);
        registry.register(
            "plan_run_duration_seconds",
            "Wall time of a plan run, from claiming it to storing its draft",
            plan_seconds.clone(),
        );
        let plan_unassigned = Histogram::new([
            0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
        ]);
        registry.register(
            "plan_unassigned_jobs",
            "Jobs a finished plan run left unassigned",
            plan_unassigned.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "delivery_attempts",
            "Delivery attempts (mails, webhook calls) by channel and outcome (sent, retry, dead, superseded)",
            deliveries.clone(),
        );
        let escalations = Family::<StageLabels, Counter>::default();
        registry.register(
            "sla_escalations",
            "Claims this process escalated for passing their stage deadline, by stage",
            escalations.clone(),
        );
        let outbox_events = Gauge::default();
        registry.register(
            "outbox_events_pending",
            "Events not yet fanned out into deliveries",
            outbox_events.clone(),
        );
        let outbox_backlog = Family::<ChannelLabels, Gauge>::default();
        registry.register(
            "outbox_backlog",
            "Deliveries still to be made (pending or retrying), by channel",
            outbox_backlog.clone(),
        );
        let overdue = Family::<StageLabels, Gauge>::default();
        registry.register(
            "claims_overdue",
            "Open claims past their stage deadline (SLA breaches), by stage",
            overdue.clone(),
        );
        let visits_delayed = Gauge::default();
        registry.register(
            "visits_delayed",
            "Visits of published plans whose live estimate passes their promised window",
            visits_delayed.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections of this process by state (idle, in_use)",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most database connections this process opens",
            pool_max.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            plan_runs,
            plan_seconds,
            plan_unassigned,
            deliveries,
            escalations,
            outbox_events,
            outbox_backlog,
            overdue,
            visits_delayed,
            pool_connections,
            pool_max,
            scrape: parking_lot::Mutex::new(()),
        }
    }

    /// One answered request; `route` is the matched template, `None` when none matched.
    pub fn http_request(
        &self,
        method: &Method,
        route: Option<&str>,
        status: StatusCode,
        took: Duration,
    ) {
        let route = route.unwrap_or(UNMATCHED).to_owned();
        let method = method.as_str().to_owned();
        self.request_seconds
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status: status.as_u16(),
            })
            .inc();
    }

    /// A plan run ended; `unassigned` only for a finished one.
    pub fn plan_run(&self, outcome: PlanOutcome, took: Duration, unassigned: Option<usize>) {
        let outcome = match outcome {
            PlanOutcome::Finished => "finished",
            PlanOutcome::Refused => "refused",
            PlanOutcome::Lost => "lost",
            PlanOutcome::Failed => "failed",
        };
        self.plan_runs
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        self.plan_seconds.observe(took.as_secs_f64());
        if let Some(n) = unassigned {
            self.plan_unassigned.observe(n as f64);
        }
    }

    pub fn delivery(&self, channel: &str, outcome: DeliveryOutcome) {
        let outcome = match outcome {
            DeliveryOutcome::Sent => "sent",
            DeliveryOutcome::Retry => "retry",
            DeliveryOutcome::Dead => "dead",
            DeliveryOutcome::Superseded => "superseded",
        };
        self.deliveries
            .get_or_create(&DeliveryLabels {
                channel: channel.to_owned(),
                outcome,
            })
            .inc();
    }

    pub fn escalated(&self, stages: &[domain::claim::ClaimStatus]) {
        for stage in stages {
            self.escalations
                .get_or_create(&StageLabels {
                    stage: stage.as_str(),
                })
                .inc();
        }
    }

    /// Reads the database's and the pool's figures, then encodes everything (blocking).
    pub fn scrape(&self, pool: &Pool) -> anyhow::Result<String> {
        let _one_at_a_time = self.scrape.lock();
        let state = pool.state();
        let max = i64::from(pool.max_size());
        let (open, idle) = (
            i64::from(state.connections),
            i64::from(state.idle_connections),
        );
        self.pool_max.set(max);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        // Counted before this scrape takes its own connection.
        self.pool_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(open - idle);
        let mut conn = pool.get()?;
        self.read_database(&mut conn)?;
        drop(conn);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    fn read_database(&self, conn: &mut DbConnection) -> anyhow::Result<()> {
        self.outbox_events.set(db::outbox::unfanned(conn)?);
        let backlog = db::deliveries::backlog(conn)?;
        // Every channel is reported, an empty one as 0, so a drained backlog is seen.
        for channel in [db::deliveries::EMAIL, db::deliveries::WEBHOOK] {
            let pending = backlog
                .iter()
                .find(|(c, _)| c == channel)
                .map_or(0, |(_, n)| *n);
            self.outbox_backlog
                .get_or_create(&ChannelLabels {
                    channel: channel.to_owned(),
                })
                .set(pending);
        }
        let days = domain::eta::days_under_way(db::now());
        self.visits_delayed
            .set(db::plans::delayed_visits(conn, days)?);
        let overdue = db::claims::overdue_per_stage(conn, db::now())?;
        for stage in domain::claim::ClaimStatus::ALL
            .into_iter()
            .filter(|s| s.is_open())
        {
            let late = overdue
                .iter()
                .find(|(s, _)| *s == stage)
                .map_or(0, |(_, n)| *n);
            self.overdue
                .get_or_create(&StageLabels {
                    stage: stage.as_str(),
                })
                .set(late);
        }
        Ok(())
    }
}
