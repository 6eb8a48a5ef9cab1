//! `POST /api/demo/grayscale {"file_id"}`: the image-processing round trip of the example
//! pages. The backend downloads the user's photo through the storage client, makes it
//! gray, uploads the result into the user's folder and returns the new file ID.

use std::io::Cursor;

use axum::{
    body::Body,
    extract::State as Extract,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;
use wx_cloud_storage_core::protocol::FileId;

use super::{read_json, ApiError, Shared};

#[derive(Deserialize)]
struct GrayscaleRequest {
    file_id: String,
}

pub(crate) async fn grayscale(
    Extract(backend): Extract<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let uid = backend.user(&headers).await?;
    let request: GrayscaleRequest = read_json(body).await?;
    if !backend.policy.owns(&uid, &request.file_id) {
        return Err(ApiError::forbidden("this file is not in your folder"));
    }
    let client = backend.client_for(&headers);
    let original = client.download(&request.file_id).await?;
    // Decoding is CPU work: keep it off the async workers.
    let png = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let image = image::load_from_memory(&original)
            .map_err(|e| format!("not an image this demo can read (PNG or JPEG): {e}"))?;
        let mut out = Cursor::new(Vec::new());
        image.to_luma8().write_to(&mut out, image::ImageFormat::Png).map_err(|e| e.to_string())?;
        Ok(out.into_inner())
    })
    .await
    .map_err(|e| ApiError::invalid_argument(e.to_string()))?
    .map_err(ApiError::invalid_argument)?;
    let name = FileId::parse(&request.file_id).and_then(|id| id.key.rsplit('/').next()).unwrap_or("image");
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let key = format!("{}gray/{stem}.png", backend.policy.user_prefix(&uid));
    let uploaded = client.upload(&key, png, Some("image/png")).await?;
    Ok(Json(json!({ "file_id": uploaded.file_id, "key": uploaded.key })).into_response())
}
