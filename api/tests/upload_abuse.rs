//! Uploads as an attacker sends them, against the real binary, its memory read from
//! `/proc` from outside: part headers of 64 MiB streamed in parallel, a body announced far
//! over the limit, images whose headers promise billions of pixels. Every one is refused,
//! nothing is stored, and the server's peak memory grows by less than 64 MiB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::Server;
use serde_json::Value;

mod common;

const PARALLEL: usize = 20;
const HEADER_BYTES: usize = 64 << 20;
const BOUNDARY: &str = "claimroute-abuse";

/// The status line of the answer to a multipart body whose `file` part has a file name of
/// [`HEADER_BYTES`] bytes, streamed (chunked, or under a `Content-Length` that says so).
/// The answer is read while the body is still being sent, as a browser would.
fn header_bomb(addr: SocketAddr, path: String, token: String, chunked: bool) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let opening =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"");
    let length = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {}", opening.len() + HEADER_BYTES)
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let mut send = |data: &[u8]| -> std::io::Result<()> {
            if chunked {
                writer.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
                writer.write_all(data)?;
                writer.write_all(b"\r\n")
            } else {
                writer.write_all(data)
            }
        };
        if send(opening.as_bytes()).is_err() {
            return;
        }
        let block = vec![b'a'; 64 * 1024];
        for _ in 0..HEADER_BYTES / block.len() {
            if send(&block).is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = sender.join();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or("no answer")
        .to_owned()
}

/// A real PNG of `side` x `side` black-and-white pixels: tiny on disk, `side`² bytes and
/// more once decoded.
fn huge_png(side: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&[1, 0, 0, 0, 0]); // 1 bit a pixel, greyscale
    chunk(&mut png, b"IHDR", &header);
    let row = vec![0u8; 1 + side.div_ceil(8) as usize];
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..side {
        encoder.write_all(&row).unwrap();
    }
    chunk(&mut png, b"IDAT", &encoder.finish().unwrap());
    chunk(&mut png, b"IEND", &[]);
    png
}

fn upload(
    client: &reqwest::blocking::Client,
    url: &str,
    token: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let part = reqwest::blocking::multipart::Part::bytes(bytes)
        .file_name("photo.png")
        .mime_str("image/png")
        .unwrap();
    let response = client
        .post(url)
        .bearer_auth(token)
        .multipart(reqwest::blocking::multipart::Form::new().part("file", part))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn abuse(database_url: &str) {
    let data_dir = common::temp_dir("claimroute-abuse");
    let server = Server::start(&data_dir, database_url, &[]);
    let client = reqwest::blocking::Client::new();
    let customer = server.login(&client, "customer1@demo.test");
    let claims: Value = client
        .get(server.api("/claims"))
        .bearer_auth(&customer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let claim = claims["items"][0]["id"].as_i64().unwrap();
    let url = server.api(&format!("/claims/{claim}/attachments"));
    let path = format!("/api/v1/claims/{claim}/attachments");
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    // One ordinary upload first, so the server has made whatever it makes once.
    let small = huge_png(16);
    let (status, body) = upload(&client, &url, &customer, small);
    assert_eq!(status, 201, "{body}");
    let before = server.memory_kib("VmHWM");

    let bombs: Vec<_> = (0..PARALLEL)
        .map(|i| {
            let (path, token) = (path.clone(), customer.clone());
            // Half streamed without a length, half announcing theirs.
            std::thread::spawn(move || header_bomb(addr, path, token, i % 2 == 0))
        })
        .collect();
    for bomb in bombs {
        let status = bomb.join().unwrap();
        assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    }
    // Images are judged by their headers, before anything decodes them.
    let mut header_only = huge_png(16);
    header_only[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    header_only[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let real = huge_png(20_000);
    assert!(
        real.len() < 1 << 20,
        "a 400-megapixel PNG of {} bytes",
        real.len()
    );
    let images: Vec<_> = (0..PARALLEL)
        .map(|i| {
            let bytes = if i % 2 == 0 {
                header_only.clone()
            } else {
                real.clone()
            };
            let (client, url, token) = (client.clone(), url.clone(), customer.clone());
            std::thread::spawn(move || upload(&client, &url, &token, bytes))
        })
        .collect();
    for image in images {
        let (status, body) = image.join().unwrap();
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["field"], "file", "{body}");
    }
    let after = server.memory_kib("VmHWM");
    eprintln!(
        "peak memory of the server: {before} KiB before, {after} KiB after {PARALLEL} header \
         bombs of {} MiB and {PARALLEL} pixel bombs",
        HEADER_BYTES >> 20
    );
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "peak memory grew from {before} KiB to {after} KiB"
    );

    // Nothing of it was kept, and the server still serves.
    let seen: Value = client
        .get(server.api(&format!("/claims/{claim}")))
        .bearer_auth(&customer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(seen["attachments"].as_array().unwrap().len(), 1, "{seen}");
    let (status, body) = upload(&client, &url, &customer, huge_png(32));
    assert_eq!(status, 201, "{body}");
    drop(server);
    let _ = std::fs::remove_dir_all(data_dir);
}

#[test]
fn abusive_uploads_are_refused_with_bounded_memory_on_sqlite() {
    common::on_sqlite(abuse);
}

#[test]
fn abusive_uploads_are_refused_with_bounded_memory_on_postgres() {
    common::on_postgres(abuse);
}
