//! Uploaded files: streamed to disk with every part of the request bounded (the whole body,
//! each part's headers, the number of parts), recognised by their content (never by the
//! client's word), images checked from their headers before anything decodes them, stored
//! under the data dir by SHA-256, never at a client's path.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_multipart::Multipart;
use actix_web::error::PayloadError;
use actix_web::http::header::HeaderMap;
use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::messages;

/// What one upload request may send.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// The file's own bytes.
    pub file_bytes: u64,
    /// Pixels of an image (width x height), read from its header.
    pub image_pixels: u64,
}

/// Room in the body beyond the file: boundaries, part headers, a few small fields.
const FRAMING_BYTES: u64 = 64 * 1024;
/// How far the multipart parser may read ahead of the field bytes handed to us: what it
/// holds while looking for the end of a part's headers. Part headers are a few hundred
/// bytes; anything near this is an attack on memory.
const MAX_READ_AHEAD: u64 = 64 * 1024;
/// Parts in one body: the file and a few fields a client may add.
const MAX_PARTS: usize = 8;
/// The longest side of a thumbnail, in pixels.
const THUMBNAIL_SIDE: u32 = 320;

/// A stored file, ready to be recorded.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: String,
    pub content_type: &'static str,
    pub bytes: i64,
    pub file_name: String,
    /// Width and height of an image.
    pub size: Option<(u32, u32)>,
    pub thumbnail: bool,
}

/// The content types we accept, recognised from the first bytes.
fn sniff(head: &[u8]) -> Option<&'static str> {
    match infer::get(head)?.mime_type() {
        "image/jpeg" => Some("image/jpeg"),
        "image/png" => Some("image/png"),
        "application/pdf" => Some("application/pdf"),
        _ => None,
    }
}

pub fn path_for(root: &Path, sha256: &str) -> PathBuf {
    root.join(&sha256[..2]).join(sha256)
}

/// Where the thumbnail of an image is kept, beside the image.
pub fn thumbnail_path(root: &Path, sha256: &str) -> PathBuf {
    root.join(&sha256[..2]).join(format!("{sha256}.thumb.jpg"))
}

/// Refuses a body whose announced length cannot fit, before a byte of it is read.
pub fn check_announced_length(announced: Option<u64>, limits: UploadLimits) -> ApiResult<()> {
    match announced {
        Some(n) if n > limits.file_bytes + FRAMING_BYTES => {
            Err(ApiError::PayloadTooLarge(messages::FILE_TOO_LARGE))
        }
        _ => Ok(()),
    }
}

/// Reads the multipart field `file` into `root`. Other fields are read and dropped. A body,
/// file or part header over its bound is a 413 as soon as it passes it (nothing more is
/// read), a file of another type a 415, an image with too many pixels a 422.
pub async fn receive(
    headers: &HeaderMap,
    payload: actix_web::dev::Payload,
    root: &Path,
    limits: UploadLimits,
) -> ApiResult<StoredFile> {
    let budget = Arc::new(Budget::default());
    let guarded = Guarded {
        inner: payload,
        budget: budget.clone(),
        body_limit: limits.file_bytes + FRAMING_BYTES,
    };
    let mut multipart = Multipart::new(headers, guarded);
    let tmp_dir = root.join("tmp");
    tokio::fs::create_dir_all(&tmp_dir)
        .await
        .map_err(anyhow::Error::from)?;
    let mut parts = 0;
    let mut stored = None;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| budget.refusal(e.to_string()))?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::PayloadTooLarge(messages::TOO_MANY_PARTS));
        }
        if field.name() != Some("file") || stored.is_some() {
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| budget.refusal(e.to_string()))?;
                budget.consumed(chunk.len());
            }
            continue;
        }
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(display_name)
            .unwrap_or_else(|| "upload".to_owned());
        let tmp_path = tmp_dir.join(format!("{:016x}", rand::random::<u64>()));
        let result = write_field(&mut field, &tmp_path, limits.file_bytes, &budget).await;
        match result {
            Ok((sha256, bytes, head)) => stored = Some((tmp_path, file_name, sha256, bytes, head)),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp_path).await;
                return Err(e);
            }
        }
    }
    let Some((tmp_path, file_name, sha256, bytes, head)) = stored else {
        return Err(ApiError::field("file", messages::FILE_MISSING));
    };
    match keep(root, &tmp_path, &sha256, &head, limits).await {
        Ok((content_type, size, thumbnail)) => Ok(StoredFile {
            sha256,
            content_type,
            bytes,
            file_name,
            size,
            thumbnail,
        }),
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp_path).await;
            Err(e)
        }
    }
}

/// Checks a received file and moves it to its place: its type from its first bytes, an
/// image's pixel count from its header (before anything decodes it), then a thumbnail.
async fn keep(
    root: &Path,
    tmp_path: &Path,
    sha256: &str,
    head: &[u8],
    limits: UploadLimits,
) -> ApiResult<(&'static str, Option<(u32, u32)>, bool)> {
    let content_type = sniff(head).ok_or(ApiError::UnsupportedMediaType(messages::FILE_TYPE))?;
    let is_image = content_type.starts_with("image/");
    let size = if is_image {
        let path = tmp_path.to_owned();
        let dims = tokio::task::spawn_blocking(move || imagesize::size(path))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|_| ApiError::field("file", messages::IMAGE_UNREADABLE))?;
        let (width, height) = (dims.width as u64, dims.height as u64);
        if width == 0 || height == 0 || width.saturating_mul(height) > limits.image_pixels {
            return Err(ApiError::field(
                "file",
                messages::too_many_pixels(width, height, limits.image_pixels),
            ));
        }
        Some((width as u32, height as u32))
    } else {
        None
    };
    let final_path = path_for(root, sha256);
    if let Some(dir) = final_path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(anyhow::Error::from)?;
    }
    let thumbnail = if is_image {
        let thumb = thumbnail_path(root, sha256);
        if tokio::fs::try_exists(&thumb).await.unwrap_or(false) {
            true
        } else {
            make_thumbnail(tmp_path.to_owned(), thumb, limits).await?
        }
    } else {
        false
    };
    // Same content, same name: a second upload of one photo is stored once.
    tokio::fs::rename(tmp_path, &final_path)
        .await
        .map_err(anyhow::Error::from)?;
    Ok((content_type, size, thumbnail))
}

/// One image decoded at a time in the whole process: decoding takes memory in proportion
/// to the pixels (up to the pixel limit), and a burst of uploads must not multiply it.
static DECODER: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Decodes the image with the decoder's own limits and writes a small JPEG beside it. An
/// image that does not decode is refused (it could not be shown either).
async fn make_thumbnail(source: PathBuf, target: PathBuf, limits: UploadLimits) -> ApiResult<bool> {
    let _turn = DECODER
        .acquire()
        .await
        .map_err(|e| anyhow::anyhow!("thumbnail queue closed: {e}"))?;
    let made = tokio::task::spawn_blocking(move || -> Result<(), image::ImageError> {
        let mut reader = image::ImageReader::open(&source)?.with_guessed_format()?;
        let mut decoder_limits = image::Limits::default();
        let side = u32::try_from(limits.image_pixels).unwrap_or(u32::MAX);
        decoder_limits.max_image_width = Some(side);
        decoder_limits.max_image_height = Some(side);
        // Four bytes a pixel at the pixel limit, and room for the decoder's own buffers.
        decoder_limits.max_alloc = Some(limits.image_pixels.saturating_mul(4) + (64 << 20));
        reader.limits(decoder_limits);
        let image = reader.decode()?;
        let small = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).to_rgb8();
        let partial = target.with_extension("tmp");
        small.save_with_format(&partial, image::ImageFormat::Jpeg)?;
        std::fs::rename(&partial, &target)?;
        Ok(())
    })
    .await
    .map_err(anyhow::Error::from)?;
    match made {
        Ok(()) => Ok(true),
        Err(image::ImageError::IoError(e)) => Err(anyhow::anyhow!("thumbnail: {e}").into()),
        Err(_) => Err(ApiError::field("file", messages::IMAGE_UNREADABLE)),
    }
}

async fn write_field(
    field: &mut actix_multipart::Field,
    tmp_path: &Path,
    limit: u64,
    budget: &Budget,
) -> ApiResult<(String, i64, Vec<u8>)> {
    let mut file = std::fs::File::create(tmp_path).map_err(anyhow::Error::from)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(64);
    let mut total: u64 = 0;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| budget.refusal(e.to_string()))?;
        budget.consumed(chunk.len());
        total += chunk.len() as u64;
        if total > limit {
            return Err(ApiError::PayloadTooLarge(messages::FILE_TOO_LARGE));
        }
        if head.len() < 64 {
            let take = (64 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        // Chunks are small (tens of KiB); a blocking write of one is cheaper than a hop.
        file.write_all(&chunk).map_err(anyhow::Error::from)?;
    }
    file.sync_all().map_err(anyhow::Error::from)?;
    Ok((
        hex::encode(hasher.finalize()),
        i64::try_from(total).unwrap_or(i64::MAX),
        head,
    ))
}

/// What the body has given the multipart parser and what the parser has given us back as
/// field bytes: the difference is what the parser holds (part headers, read-ahead).
#[derive(Debug, Default)]
struct Budget {
    read: AtomicU64,
    handed_out: AtomicU64,
    tripped: AtomicU8,
}

const TRIPPED_BODY: u8 = 1;
const TRIPPED_READ_AHEAD: u8 = 2;

impl Budget {
    fn consumed(&self, n: usize) {
        self.handed_out.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The answer to a multipart error: a 413 when our guard stopped the body, otherwise
    /// the client's malformed body (400).
    fn refusal(&self, detail: String) -> ApiError {
        match self.tripped.load(Ordering::Relaxed) {
            TRIPPED_BODY => ApiError::PayloadTooLarge(messages::BODY_TOO_LARGE),
            TRIPPED_READ_AHEAD => ApiError::PayloadTooLarge(messages::PART_HEADER_TOO_LARGE),
            _ => ApiError::BadRequest(detail),
        }
    }
}

/// The request body as the multipart parser sees it, cut off (with an error) once it is
/// longer than the endpoint takes or the parser holds more than [`MAX_READ_AHEAD`]
/// without handing it on: its buffer never grows past that, whatever the client sends.
struct Guarded {
    inner: actix_web::dev::Payload,
    budget: Arc<Budget>,
    body_limit: u64,
}

impl Stream for Guarded {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.budget.tripped.load(Ordering::Relaxed) != 0 {
            return Poll::Ready(Some(Err(PayloadError::Overflow)));
        }
        let item = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &item {
            let read = self
                .budget
                .read
                .fetch_add(chunk.len() as u64, Ordering::Relaxed)
                + chunk.len() as u64;
            let held = read.saturating_sub(self.budget.handed_out.load(Ordering::Relaxed));
            let trip = if read > self.body_limit {
                TRIPPED_BODY
            } else if held > MAX_READ_AHEAD + chunk.len() as u64 {
                TRIPPED_READ_AHEAD
            } else {
                0
            };
            if trip != 0 {
                self.budget.tripped.store(trip, Ordering::Relaxed);
                return Poll::Ready(Some(Err(PayloadError::Overflow)));
            }
        }
        item
    }
}

/// A file name safe to show and to send back: no path, no control or bidirectional
/// characters, never `.` or `..`, at most 120 characters. Only ever display text: files
/// are stored by their content hash.
pub fn display_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && *c != '"')
        .take(120)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        "upload".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// Characters that reorder the text around them (so `gpj.exe` can show as `exe.jpg`), and
/// invisible marks of direction.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn recognises_types_by_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"hello, I am a text file named photo.jpg"), None);
    }

    #[test]
    fn display_names_lose_their_paths_and_tricks() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\x\\a\"b.jpg"), "ab.jpg");
        assert_eq!(display_name("/"), "upload");
        assert_eq!(display_name(".."), "upload");
        assert_eq!(display_name("."), "upload");
        assert_eq!(display_name("photo\u{202E}gpj.exe"), "photogpj.exe");
        assert_eq!(display_name("a\u{2066}b\u{200F}c\u{0007}.png"), "abc.png");
        assert_eq!(display_name(&"x".repeat(500)).chars().count(), 120);
    }
}
