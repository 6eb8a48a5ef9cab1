//! What `wxcs dev` answers outside its API: the example pages, for `GET` and `HEAD` only.
//!
//! An unknown route under `/api` is a typo in a client, not a page: it is answered 404 with
//! the backend's JSON error, so the mistake shows as one (it used to get the placeholder
//! page with 200, which a client took for success). Other methods on pages get the same.

use std::path::Path;

use axum::{
    extract::Request,
    http::Method,
    response::{Html, IntoResponse, Response},
    Router,
};
use tower::ServiceExt;
use tower_http::services::ServeDir;
use wx_cloud_storage_core::ErrorCode;
use wx_cloud_storage_server::backend::ApiError;

const PLACEHOLDER: &str = "<h1>wxcs dev</h1><p>The emulator and the credential backend are running. No example pages are built yet: once www-example/dist exists, it is served here.</p>";

/// `api` with the pages of `www` (or a placeholder page when it is not built) behind it.
pub(super) fn with_pages(api: Router, www: &Path) -> Router {
    let pages = www.join("index.html").exists().then(|| ServeDir::new(www));
    api.fallback(move |request: Request| {
        let pages = pages.clone();
        async move {
            let path = request.uri().path();
            if path == "/api" || path.starts_with("/api/") {
                return not_found(format!(
                    "no API route {} {path}: see the backend contract",
                    request.method()
                ));
            }
            if !matches!(*request.method(), Method::GET | Method::HEAD) {
                return not_found(format!("{path} is a page: pages answer GET only"));
            }
            match pages {
                Some(pages) => pages.oneshot(request).await.into_response(),
                None => Html(PLACEHOLDER).into_response(),
            }
        }
    })
}

fn not_found(message: String) -> Response {
    ApiError::new(ErrorCode::NotFound, message).into_response()
}
