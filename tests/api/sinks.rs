//! Real protocol peers the server talks to in the tests: an SMTP server that keeps every
//! mail it is given, and an HTTP receiver for webhook calls. Both listen on random ports.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A mail as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub envelope_to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Mail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a mail that parses")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    pub fn body(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|b| b.into_owned())
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header_raw(name).map(|v| v.trim().to_owned())
    }

    pub fn to(&self) -> String {
        self.envelope_to.join(",")
    }
}

/// An SMTP server on a random port that accepts every mail (no TLS, no auth).
#[derive(Clone)]
pub struct SmtpSink {
    pub url: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(socket, store).await;
                });
            }
        });
        Self {
            url: format!("smtp://127.0.0.1:{port}"),
            mails,
        }
    }

    /// A server on `backend` whose mails go to a new sink, its settings adjusted further by
    /// `adjust`.
    pub async fn app(
        backend: crate::helpers::Backend,
        adjust: impl FnOnce(&mut api::config::Settings),
    ) -> (crate::helpers::TestApp, Self) {
        let sink = Self::start().await;
        let url = sink.url.clone();
        let app = crate::helpers::TestApp::start(backend, |s| {
            s.notify.smtp_url = Some(url);
            adjust(s);
        })
        .await;
        (app, sink)
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits until a mail to `to` whose subject contains `subject` arrived.
    pub async fn wait_for(&self, to: &str, subject: &str) -> Mail {
        self.wait_for_subject(to, subject, |s| s.contains(subject))
            .await
    }

    /// Waits until a mail to `to` whose subject satisfies `wanted` arrived (`what` names it).
    pub async fn wait_for_subject(
        &self,
        to: &str,
        what: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(mail) = self
                .mails()
                .into_iter()
                .find(|m| m.to() == to && wanted(&m.subject()))
            {
                return mail;
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {to} about `{what}`; got: {:?}",
                self.mails()
                    .iter()
                    .map(|m| (m.to(), m.subject()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One SMTP conversation (RFC 5321, the commands a client sends).
async fn session(
    socket: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
        } else if command.starts_with("RCPT TO:") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            to.push(address);
            write.write_all(b"250 OK\r\n").await?;
        } else if command == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut raw = Vec::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // Dot-stuffing: a leading dot was doubled by the client.
                let text = line.strip_prefix('.').unwrap_or(&line);
                raw.extend_from_slice(text.as_bytes());
            }
            store.lock().unwrap().push(Mail {
                envelope_to: std::mem::take(&mut to),
                raw,
            });
            write.write_all(b"250 OK queued\r\n").await?;
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if command.starts_with("RSET") {
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else {
            // MAIL FROM, NOOP, HELO...
            write.write_all(b"250 OK\r\n").await?;
        }
    }
}

/// A webhook call as the receiver got it.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Call {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Checks the signature as a receiver following Standard Webhooks would.
    pub fn verify(&self, secret: &str) -> bool {
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        );
        self.signature
            .split(' ')
            .any(|candidate| candidate == expected)
    }
}

#[derive(Default)]
struct ReceiverState {
    calls: Mutex<Vec<Call>>,
    /// Calls still to be answered with a 500.
    fail: AtomicUsize,
    /// Calls still to be answered only after `delay`.
    late: AtomicUsize,
    delay: Mutex<Duration>,
}

/// An HTTP server on a random port that records webhook calls.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReceiverState>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    state.calls.lock().unwrap().push(Call {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let take = |counter: &AtomicUsize| {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    };
    let (failing, late) = (take(&state.fail), take(&state.late));
    if late {
        let delay = *state.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
    }
    if failing {
        HttpResponse::InternalServerError().body("not today")
    } else {
        HttpResponse::NoContent().finish()
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let state = web::Data::new(ReceiverState::default());
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            state: state.into_inner(),
        }
    }

    /// The next `n` calls are answered with a 500.
    pub fn fail_next(&self, n: usize) {
        self.state.fail.store(n, Ordering::SeqCst);
    }

    /// The next `n` calls are answered only after `delay` (later calls are not held up).
    pub fn answer_late(&self, n: usize, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
        self.state.late.store(n, Ordering::SeqCst);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the calls received.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let calls = self.calls();
            if done(&calls) {
                return calls;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: got {} calls: {:?}",
                calls.len(),
                calls
                    .iter()
                    .map(|c| format!("{} {}", c.id, c.json()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A server on a random port speaking OSRM's `/table` protocol: roads a little longer than
/// the straight line, and longer northwards than southwards (so no estimate passes for
/// them). It counts requests and can be taken down.
#[derive(Clone)]
pub struct RoadService {
    pub url: String,
    state: Arc<RoadState>,
}

#[derive(Default)]
struct RoadState {
    requests: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

/// Seconds and metres from `a` to `b`, (lon, lat) in degrees.
pub fn road(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let metres = 111_000.0 * ((a.0 - b.0).abs() * 0.61 + (a.1 - b.1).abs()) * 1.4
        + if b.1 > a.1 { 300.0 } else { 0.0 };
    (metres / 7.0, metres)
}

async fn table(req: HttpRequest, state: web::Data<RoadState>) -> HttpResponse {
    state.requests.fetch_add(1, Ordering::SeqCst);
    if state.down.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let coords: Vec<(f64, f64)> = req
        .match_info()
        .query("coords")
        .split(';')
        .map(|c| {
            let (lon, lat) = c.split_once(',').unwrap();
            (lon.parse().unwrap(), lat.parse().unwrap())
        })
        .collect();
    let indices = |key: &str| -> Vec<usize> {
        req.query_string()
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap()
            .split(';')
            .map(|i| i.parse().unwrap())
            .collect()
    };
    let (sources, targets) = (indices("sources"), indices("destinations"));
    let grid = |pick: fn((f64, f64)) -> f64| -> Vec<Vec<f64>> {
        sources
            .iter()
            .map(|&s| {
                targets
                    .iter()
                    .map(|&t| pick(road(coords[s], coords[t])))
                    .collect()
            })
            .collect()
    };
    HttpResponse::Ok().json(serde_json::json!({
        "code": "Ok",
        "durations": grid(|r| r.0),
        "distances": grid(|r| r.1),
    }))
}

impl RoadService {
    pub async fn start() -> Self {
        let state = web::Data::new(RoadState::default());
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/table/v1/{profile}/{coords}", web::get().to(table))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}"),
            state: state.into_inner(),
        }
    }

    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Every request from now on is answered with a 503.
    pub fn go_down(&self) {
        self.state.down.store(true, Ordering::SeqCst);
    }
}
