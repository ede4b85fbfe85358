//! Berth's HTTP service: the OCI distribution API on axum.
//!
//! Handlers stay thin: [`route::parse`] turns the path into a typed endpoint, the handler reads
//! headers and the body, calls the [`berth_core::Registry`], and [`error::ApiError`] — the one
//! error table — turns failures into the OCI error envelope.

pub mod error;
mod handlers;
mod middleware;
pub mod route;

use axum::routing::get;
use axum::Router;
use berth_core::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v2", axum::routing::any(handlers::v2))
        .route("/v2/", axum::routing::any(handlers::v2))
        .route("/v2/{*rest}", axum::routing::any(handlers::v2))
        .route("/healthz", get(handlers::health::healthz))
        .route("/readyz", get(handlers::health::readyz))
        .layer(axum::middleware::from_fn(middleware::log_and_headers))
        .with_state(state)
}
