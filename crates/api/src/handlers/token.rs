//! `/openshift/token`: the registry login. Docker's token protocol: Basic auth (any user name
//! without `:` and an API token, or a user's password) or none (anonymous), `scope`
//! parameters, and a short-lived registry token granting what the caller's roles allow.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_access::{parse_scopes, Caller};
use berth_oci::ErrorCode;
use serde_json::json;
use std::collections::HashMap;
use std::net::IpAddr;

use super::query_params;
use crate::auth::{authenticate, client_ip, Challenge};
use crate::error::ApiError;
use crate::AppState;

/// At most this many scopes in one request.
const MAX_SCOPES: usize = 64;

pub async fn token(State(app): State<AppState>, request: Request) -> Response {
    let ip = client_ip(&request);
    let params = query_params(&request);
    let (parts, _body) = request.into_parts();
    match issue(&app, &parts.method, &parts.headers, ip, params).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn issue(
    app: &AppState,
    method: &Method,
    headers: &HeaderMap,
    ip: IpAddr,
    params: HashMap<String, Vec<String>>,
) -> Result<Response, ApiError> {
    if method != Method::GET {
        return Err(ApiError::unsupported(
            StatusCode::METHOD_NOT_ALLOWED,
            "the token endpoint answers GET",
        )
        .with_header(header::ALLOW, "GET"));
    }
    let challenge = Challenge::for_request(app, headers, None);
    let caller: Caller = authenticate(app, headers, ip)
        .await
        .map_err(|e| e.registry_error(&challenge))?;
    let mut scopes = Vec::new();
    for raw in params.get("scope").map(Vec::as_slice).unwrap_or_default() {
        scopes.extend(
            parse_scopes(raw)
                .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Unsupported, m))?,
        );
    }
    if scopes.len() > MAX_SCOPES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::Unsupported,
            format!("at most {MAX_SCOPES} scopes may be requested at once"),
        ));
    }
    let grants = app
        .access
        .grant(&caller, &scopes)
        .await
        .map_err(|e| ApiError::from(berth_core::RegistryError::Metadata(e)))?;
    let service = params
        .get("service")
        .and_then(|v| v.first())
        .filter(|s| s.len() <= 255 && !s.chars().any(char::is_control))
        .cloned()
        .unwrap_or_else(|| challenge.service.clone());
    let issued = app.access.issue(&caller, grants, &service).map_err(|e| {
        tracing::error!(error = %e, "signing a registry token failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unknown,
            "could not sign the registry token",
        )
    })?;
    let issued_at = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(issued.issued_at),
    )
    .to_string();
    Ok(axum::Json(json!({
        "token": issued.token,
        "access_token": issued.token,
        "expires_in": issued.expires_in,
        "issued_at": issued_at,
    }))
    .into_response())
}
