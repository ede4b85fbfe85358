//! `/healthz` (the process answers) and `/readyz` (its backends answer too).

use axum::extract::State;
use axum::http::StatusCode;

use crate::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(app): State<AppState>) -> (StatusCode, String) {
    match app.registry.metadata().ping().await {
        Ok(()) => (StatusCode::OK, "ok".into()),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("metadata store not ready: {e}"),
        ),
    }
}
