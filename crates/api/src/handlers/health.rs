//! `/healthz` (the process answers) and `/readyz` (its database and blob storage answer too).

use axum::extract::State;
use axum::http::StatusCode;

use crate::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(app): State<AppState>) -> (StatusCode, String) {
    let limit = std::time::Duration::from_secs(5);
    let timed_out = || "did not answer within 5 seconds".to_string();
    let (meta, store) = tokio::join!(
        tokio::time::timeout(limit, app.registry.metadata().ping()),
        tokio::time::timeout(limit, app.registry.storage().ping())
    );
    let meta = meta
        .map_err(|_| timed_out())
        .and_then(|r| r.map_err(|e| e.to_string()));
    let store = store
        .map_err(|_| timed_out())
        .and_then(|r| r.map_err(|e| e.to_string()));
    match (meta, store) {
        (Ok(()), Ok(())) => (StatusCode::OK, "ok".into()),
        (Err(e), _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("metadata store not ready: {e}"),
        ),
        (_, Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("blob storage not ready: {e}"),
        ),
    }
}
