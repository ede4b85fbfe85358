//! Per-request concerns: the `Docker-Distribution-API-Version` header every registry response
//! carries, closing connections whose request body may be left unread, and one log line per
//! request.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, Version};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub async fn log_and_headers(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let may_leave_body = request.version() <= Version::HTTP_11 && has_body(&request);
    let mut response = next.run(request).await;
    let failed = !response.status().is_success();
    let headers = response.headers_mut();
    headers.insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    // An error may be answered before the request body was read (a chunk out of order, a
    // missing token). The server then cannot reuse the connection, so it says so: otherwise a
    // client would send its next request into a connection that is being closed.
    if may_leave_body && failed {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    tracing::info!(
        target: "berth::request",
        %method,
        path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

fn has_body(request: &Request) -> bool {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return false;
    }
    let headers = request.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}
