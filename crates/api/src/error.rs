//! The one error table: every error a registry request can end with, its OCI error code and its
//! HTTP status. Unknown internal failures are 500 (or 503 when a backend is unavailable) and are
//! logged; nothing else is, on purpose.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::RegistryError;
use berth_oci::ErrorCode;
use serde_json::json;

use crate::route::RouteError;

/// An error answered in the OCI JSON envelope.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub detail: serde_json::Value,
    pub headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            detail: serde_json::Value::Null,
            headers: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> ApiError {
        self.detail = detail;
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> ApiError {
        self.headers.push((name, value.into()));
        self
    }

    pub fn digest_invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::DigestInvalid, message)
    }

    pub fn unsupported(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::new(status, ErrorCode::Unsupported, message)
    }
}

impl From<RouteError> for ApiError {
    fn from(e: RouteError) -> ApiError {
        match e {
            RouteError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NameUnknown,
                "no such endpoint",
            ),
            RouteError::Name(e) => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::NameInvalid,
                e.to_string(),
            ),
            RouteError::Digest(m) => ApiError::digest_invalid(m),
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> ApiError {
        use RegistryError as E;
        use StatusCode as S;
        let message = e.to_string();
        let (status, code) = match &e {
            E::BlobUnknown => (S::NOT_FOUND, ErrorCode::BlobUnknown),
            E::BlobUploadUnknown => (S::NOT_FOUND, ErrorCode::BlobUploadUnknown),
            E::BlobUploadInvalid(_) => (S::BAD_REQUEST, ErrorCode::BlobUploadInvalid),
            E::DigestInvalid(_) => (S::BAD_REQUEST, ErrorCode::DigestInvalid),
            E::ManifestBlobUnknown(missing) => {
                return ApiError::new(S::BAD_REQUEST, ErrorCode::ManifestBlobUnknown, message)
                    .with_detail(json!({ "missing": missing }))
            }
            E::ManifestInvalid(_) => (S::BAD_REQUEST, ErrorCode::ManifestInvalid),
            E::ManifestTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, ErrorCode::ManifestInvalid),
            E::ManifestUnknown => (S::NOT_FOUND, ErrorCode::ManifestUnknown),
            E::NameUnknown | E::ProjectUnknown(_) => (S::NOT_FOUND, ErrorCode::NameUnknown),
            E::NameInvalid(_) => (S::BAD_REQUEST, ErrorCode::NameInvalid),
            E::SizeInvalid(_) => (S::BAD_REQUEST, ErrorCode::SizeInvalid),
            E::ChunkOutOfOrder { offset } => {
                return ApiError::new(
                    S::RANGE_NOT_SATISFIABLE,
                    ErrorCode::BlobUploadInvalid,
                    message,
                )
                .with_header(
                    header::RANGE,
                    crate::handlers::uploads::range_value(*offset),
                )
            }
            E::RangeNotSatisfiable { size } => {
                return ApiError::new(S::RANGE_NOT_SATISFIABLE, ErrorCode::RangeInvalid, message)
                    .with_header(header::CONTENT_RANGE, format!("bytes */{size}"))
            }
            E::Unsupported(_) => (S::METHOD_NOT_ALLOWED, ErrorCode::Unsupported),
            E::ReadOnly => (S::METHOD_NOT_ALLOWED, ErrorCode::Unsupported),
            E::Storage(_) | E::Metadata(_) => {
                tracing::error!(error = %e, "backend failure");
                return ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    "a storage or metadata backend failed; try again",
                )
                .with_header(header::RETRY_AFTER, "1");
            }
        };
        ApiError::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "errors": [{
                "code": self.code.as_str(),
                "message": self.message,
                "detail": self.detail,
            }]
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, v);
            }
        }
        response
    }
}
