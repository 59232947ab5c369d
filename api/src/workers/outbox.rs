//! The delivery worker: fans outbox events out into deliveries (`app::notifications`), then
//! sends due deliveries, mails over SMTP (or into `.eml` files) and webhook calls signed
//! after the Standard Webhooks convention. A delivery is taken with a lease, sent outside
//! any transaction, and recorded sent, retried later (exponential backoff with jitter), or
//! dead after its last attempt. A process that dies mid-batch leaves its leases to expire:
//! the deliveries are sent again, with the same ids. A batch is taken under one lease, and
//! each delivery's lease is renewed just before it is sent (skipped if another worker has
//! taken it meanwhile), so a slow receiver early in a batch does not get the rest sent
//! twice. An attempt that still outlives its lease and fails records nothing once a newer
//! one has taken the delivery.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{from_now, write, WorkerError};
use crate::app::notifications::{self, backoff};
use crate::config::NotifySettings;
use crate::db::deliveries::{self, DeliveryRow, EMAIL, WEBHOOK};
use crate::db::{webhooks, Pool};
use crate::metrics::{DeliveryOutcome, Metrics};
use crate::templates::Templates;

/// Where mails go.
enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder, for a demo or a site without SMTP.
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// What the worker needs to deliver: the templates, the mailer, an HTTP client.
pub struct Deliverer {
    pool: Pool,
    settings: NotifySettings,
    templates: Templates,
    mailer: Mailer,
    http: reqwest::Client,
    from: Mailbox,
    metrics: Arc<Metrics>,
}

/// How long an SMTP server has for each step of the conversation.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

impl Deliverer {
    pub fn new(
        pool: Pool,
        settings: NotifySettings,
        data_dir: &std::path::Path,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let templates = Templates::new(settings.templates_dir.as_deref());
        // A send that outlives its lease may be sent again by another worker.
        let slowest_send = if settings.smtp_url.is_some() {
            SMTP_TIMEOUT.max(settings.webhook_timeout)
        } else {
            settings.webhook_timeout
        };
        if settings.lease <= slowest_send {
            tracing::warn!(
                lease = ?settings.lease,
                timeout = ?slowest_send,
                "DELIVERY_LEASE_SECONDS is not above the send timeout: a slow receiver's \
                 messages may be sent twice"
            );
        }
        let mailer = match &settings.smtp_url {
            Some(url) => Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => {
                let dir = data_dir.join("outbox-mail");
                std::fs::create_dir_all(&dir)?;
                Mailer::Files(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(settings.webhook_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM `{}`: {e}", settings.mail_from))?;
        Ok(Self {
            pool,
            settings,
            templates,
            mailer,
            http,
            from,
            metrics,
        })
    }

    /// Fans out pending events; how many.
    pub async fn fan_out(self: &Arc<Self>) -> Result<usize, WorkerError> {
        let me = self.clone();
        write(&self.pool, move |conn| {
            notifications::fan_out(conn, &me.templates, &me.settings, me.settings.batch)
                .map_err(|e| WorkerError::Internal(anyhow::anyhow!("fan-out: {e}")))
        })
        .await
    }

    /// Sends one batch of due deliveries; how many were taken.
    pub async fn send_due(self: &Arc<Self>) -> Result<usize, WorkerError> {
        let (batch, lease) = (self.settings.batch, self.settings.lease);
        let taken = write(&self.pool, move |conn| {
            let until = from_now(lease);
            Ok(deliveries::take_due(conn, batch, until)?)
        })
        .await?;
        let count = taken.len();
        for delivery in taken {
            // Each send gets a whole lease, however long the ones before it took.
            // Always set by the take; it is what says the row is still as taken.
            let Some(taken_until) = delivery.locked_until else {
                continue;
            };
            let key = (delivery.id, taken_until);
            let started = write(&self.pool, move |conn| {
                Ok(deliveries::start_attempt(conn, key, from_now(lease))?)
            })
            .await?;
            if !started {
                tracing::info!(
                    delivery = delivery.id,
                    "taken by another worker; not sent here"
                );
                continue;
            }
            let attempts = delivery.attempts + 1;
            let outcome = self.send(&delivery).await;
            let id = delivery.id;
            let settings = self.settings.clone();
            let recorded = write(&self.pool, move |conn| {
                Ok(match outcome {
                    Ok(()) => {
                        deliveries::sent(conn, id)?;
                        DeliveryOutcome::Sent
                    }
                    Err(error) => {
                        let retry_at = (attempts < settings.max_attempts).then(|| {
                            let delay = backoff(attempts, settings.backoff, settings.backoff_max);
                            from_now(delay)
                        });
                        if deliveries::failed(conn, (id, attempts), &error, retry_at)? == 0 {
                            // A newer attempt has the delivery; its outcome stands, and this
                            // failure neither retries nor buries it.
                            tracing::info!(delivery = id, %error, "failed after its lease ran out");
                            DeliveryOutcome::Superseded
                        } else if retry_at.is_some() {
                            DeliveryOutcome::Retry
                        } else {
                            tracing::warn!(delivery = id, %error, "delivery given up");
                            DeliveryOutcome::Dead
                        }
                    }
                })
            })
            .await?;
            self.metrics.delivery(&delivery.channel, recorded);
        }
        Ok(count)
    }

    async fn send(&self, d: &DeliveryRow) -> Result<(), String> {
        match d.channel.as_str() {
            EMAIL => self.send_mail(d).await,
            WEBHOOK => self.call_webhook(d).await,
            other => Err(format!("unknown channel `{other}`")),
        }
    }

    async fn send_mail(&self, d: &DeliveryRow) -> Result<(), String> {
        let to: Mailbox = d
            .recipient
            .parse()
            .map_err(|e| format!("bad address `{}`: {e}", d.recipient))?;
        let host = self.from.email.domain().to_owned();
        // The same id for every attempt, so a mail sent twice is recognisably the same mail.
        let message_id = format!("<claimroute.{}.{}@{host}>", d.outbox_id, d.id);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(d.subject.clone().unwrap_or_default())
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN);
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Claimroute-Event"),
            d.outbox_id.to_string(),
        ));
        if let Some(locale) = &d.locale {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                locale.clone(),
            ));
        }
        let message = builder
            .body(d.body.clone())
            .map_err(|e| format!("cannot build the mail: {e}"))?;
        match &self.mailer {
            Mailer::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Mailer::Files(files) => files
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    async fn call_webhook(&self, d: &DeliveryRow) -> Result<(), String> {
        let hook_id = d
            .webhook_id
            .ok_or("a webhook delivery without its webhook")?;
        let pool = self.pool.clone();
        let hook = tokio::task::spawn_blocking(move || -> Result<_, String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            webhooks::find(&mut conn, hook_id).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??
        .filter(|h| h.active)
        .ok_or("the webhook was removed")?;
        let id = format!("msg_{}", d.outbox_id);
        let timestamp = Utc::now().timestamp();
        let signature = notifications::sign(&hook.secret, &id, timestamp, &d.body)
            .map_err(|e| e.to_string())?;
        let response = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.body.clone())
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {status}"))
        }
    }
}

/// Runs the delivery loop until the process ends.
pub fn start(deliverer: Arc<Deliverer>, poll: Duration) {
    tokio::spawn(async move {
        loop {
            let mut busy = false;
            match deliverer.fan_out().await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "fanning out notifications failed"),
            }
            match deliverer.send_due().await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "sending notifications failed"),
            }
            if !busy {
                tokio::time::sleep(poll).await;
            }
        }
    });
}
