//! Uploaded files: streamed to disk with a size limit, recognised by their content (never
//! by the client's word), stored under the data dir by SHA-256, never at a client's path.

use std::io::Write;
use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};

/// A stored file, ready to be recorded.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: String,
    pub content_type: &'static str,
    pub bytes: i64,
    pub file_name: String,
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

/// Reads the multipart field `file` into `root`, at most `limit` bytes. Other fields are
/// ignored. A file over the limit is a 413, one of another type a 415.
pub async fn receive(mut payload: Multipart, root: &Path, limit: u64) -> ApiResult<StoredFile> {
    let tmp_dir = root.join("tmp");
    tokio::fs::create_dir_all(&tmp_dir)
        .await
        .map_err(anyhow::Error::from)?;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if field.name() != Some("file") {
            while let Some(chunk) = field.next().await {
                chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
            }
            continue;
        }
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(display_name)
            .unwrap_or_else(|| "upload".to_owned());
        let tmp_path = tmp_dir.join(format!("{:016x}", rand::random::<u64>()));
        let result = write_field(&mut field, &tmp_path, limit).await;
        // The next field can only be read once this one is gone.
        drop(field);
        let (sha256, bytes, head) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp_path).await;
                // Read the rest of the body so the client gets our answer, not a reset.
                drain(&mut payload).await;
                return Err(e);
            }
        };
        let Some(content_type) = sniff(&head) else {
            let _ = tokio::fs::remove_file(&tmp_path).await;
            drain(&mut payload).await;
            return Err(ApiError::UnsupportedMediaType);
        };
        let final_path = path_for(root, &sha256);
        if let Some(dir) = final_path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(anyhow::Error::from)?;
        }
        // Same content, same name: a second upload of one photo is stored once.
        tokio::fs::rename(&tmp_path, &final_path)
            .await
            .map_err(anyhow::Error::from)?;
        drain(&mut payload).await;
        return Ok(StoredFile {
            sha256,
            content_type,
            bytes,
            file_name,
        });
    }
    Err(ApiError::field("file", crate::messages::FILE_MISSING))
}

async fn write_field(
    field: &mut actix_multipart::Field,
    tmp_path: &Path,
    limit: u64,
) -> ApiResult<(String, i64, Vec<u8>)> {
    let mut file = std::fs::File::create(tmp_path).map_err(anyhow::Error::from)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(64);
    let mut total: u64 = 0;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        total += chunk.len() as u64;
        if total > limit {
            // Keep reading to the end of the field without storing it.
            while let Some(rest) = field.next().await {
                if rest.is_err() {
                    break;
                }
            }
            return Err(ApiError::PayloadTooLarge);
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

/// Reads and drops a whole upload that is refused before it is looked at.
pub async fn discard(mut payload: Multipart) {
    drain(&mut payload).await;
}

async fn drain(payload: &mut Multipart) {
    while let Some(Ok(mut field)) = payload.next().await {
        while let Some(Ok(_)) = field.next().await {}
    }
}

/// A file name safe to show and to send back in Content-Disposition: no path, no controls.
fn display_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "upload".to_owned()
    } else {
        cleaned
    }
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
    fn display_names_lose_their_paths() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\x\\a\"b.jpg"), "ab.jpg");
        assert_eq!(display_name("/"), "upload");
    }
}
