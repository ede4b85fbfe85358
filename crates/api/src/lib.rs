//! Berth's HTTP service: the OCI distribution API on axum.
//!
//! Handlers stay thin: [`route::parse`] turns the path into a typed endpoint, the handler reads
//! headers and the body, calls the [`berth_core::Registry`], and [`error::ApiError`] — the one
//! error table — turns failures into the OCI error envelope.

pub mod auth;
pub mod error;
mod handlers;
mod middleware;
mod resources;
pub mod route;

use axum::routing::get;
use axum::Router;
use berth_access::Access;
use berth_core::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    pub access: Access,
    /// `http` or `https`: how clients reach this server, for the token realm.
    pub scheme: &'static str,
    /// The listen address, for the token realm when a request has no usable `Host`.
    pub listen_host: String,
    /// The host name clients outside reach this registry by, when configured: image streams
    /// show `publicDockerImageRepository` under it.
    pub public_hostname: Option<String>,
    /// Becomes true when the server is shutting down: long requests (watches) end.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v2", axum::routing::any(handlers::v2))
        .route("/v2/", axum::routing::any(handlers::v2))
        .route("/v2/{*rest}", axum::routing::any(handlers::v2))
        .route(
            "/openshift/token",
            axum::routing::any(handlers::token::token),
        )
        .route("/apis/{*rest}", axum::routing::any(resources::dispatch))
        .route("/api/{*rest}", axum::routing::any(resources::dispatch))
        .route("/healthz", get(handlers::health::healthz))
        .route("/readyz", get(handlers::health::readyz))
        .layer(axum::middleware::from_fn(middleware::log_and_headers))
        .with_state(state)
}
