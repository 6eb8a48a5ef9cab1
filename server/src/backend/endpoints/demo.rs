//! `POST /api/demo/grayscale {"file_id"}`: the image-processing round trip of the example
//! pages. The backend downloads the user's photo through the storage client, makes it
//! gray, uploads the result into the user's folder and returns the new file ID.
//!
//! Decoding untrusted images is bounded: a 249 KB PNG can declare 16000×16000 pixels
//! (1 GB decoded), and a 243 KB one 8000×8000 RGBA, which passed a bound on sides alone
//! and peaked at 315 MiB. So the file is refused past [`MAX_FILE_BYTES`] before its body is
//! read; from its header, an image is refused past [`MAX_SIDE`] pixels a side,
//! [`MAX_PIXELS`] pixels, or [`MAX_DECODE_BYTES`] decoded (pixels × bytes per pixel, its
//! channels and depth), before anything is decoded; and at most [`MAX_AT_ONCE`] images
//! are processed at once. The largest image let through (4096×4096 RGBA: 64 MiB decoded,
//! 16 MiB gray) peaks the process near 110 MiB.

use std::{io::Cursor, sync::LazyLock};

use axum::{extract::State, Json};
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use wx_cloud_storage_core::{protocol::FileId, ErrorCode};

use super::FileRequest;
use crate::backend::{ApiError, AppJson, Caller, Op, Shared, Upstream};

/// The largest photo the demo downloads.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// The largest width or height the decoder accepts.
pub const MAX_SIDE: u32 = 8192;
/// The most pixels an image may have (4096 × 4096).
pub const MAX_PIXELS: u64 = 4096 * 4096;
/// The most memory an image may take decoded: pixels × bytes per pixel.
pub const MAX_DECODE_BYTES: u64 = 64 * 1024 * 1024;
/// Images processed at once; more wait their turn.
pub const MAX_AT_ONCE: usize = 2;

static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(MAX_AT_ONCE));

pub(crate) async fn grayscale(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(FileRequest { file_id, .. }): AppJson<FileRequest>,
) -> Result<Json<Value>, ApiError> {
    backend.check_file_id(&caller, Op::Read, &file_id)?;
    let _slot = SLOTS.acquire().await.expect("the semaphore is never closed");
    let original = client.download_at_most(&file_id, MAX_FILE_BYTES).await?;
    // Decoding is CPU work: keep it off the async workers.
    let png = tokio::task::spawn_blocking(move || gray_png(&original))
        .await
        .map_err(|_| ApiError::invalid_argument("the image could not be processed"))??;
    let name = FileId::parse(&file_id).and_then(|id| id.key.rsplit('/').next()).unwrap_or("image");
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    // Into the caller's home folder, where they may upload.
    let key = backend.policy.rules.resolve(&format!("gray/{stem}.png"), caller.identity())?;
    backend.policy.rules.require(Op::Upload, &key, caller.identity())?;
    let uploaded = client.upload(&key, png, Some("image/png")).await?;
    Ok(Json(json!({ "file_id": uploaded.file_id, "key": uploaded.key })))
}

/// The image made gray, as PNG, decoded within the limits.
fn gray_png(bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    use image::ImageDecoder;
    let unreadable = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => too_large(),
        e => ApiError::invalid_argument(format!("not an image this demo can read (PNG or JPEG): {e}")),
    };
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| ApiError::invalid_argument("not an image this demo can read (PNG or JPEG)"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // The decoder's own bound, past the header check below: its buffers besides the image.
    limits.max_alloc = Some(MAX_DECODE_BYTES + 16 * 1024 * 1024);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS || pixels * u64::from(decoder.color_type().bytes_per_pixel()) > MAX_DECODE_BYTES {
        return Err(too_large());
    }
    let image = image::DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    let mut out = Cursor::new(Vec::new());
    image
        .to_luma8()
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| ApiError::invalid_argument(e.to_string()))?;
    Ok(out.into_inner())
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::TooLarge,
        format!(
            "the image is over {MAX_SIDE} pixels a side, {} million pixels, or {} MiB decoded: send a smaller one",
            MAX_PIXELS / 1_000_000,
            MAX_DECODE_BYTES / 1024 / 1024
        ),
    )
}
