//! Errors of the API resources as Kubernetes `Status` objects.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_access::AuthError;
use berth_metadata::MetadataError;
use serde_json::json;

use crate::auth::{AuthFailure, Malformed};

#[derive(Debug)]
pub struct Status {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl Status {
    pub fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Status {
        Status {
            code,
            reason,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Status {
        Status::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn invalid(message: impl Into<String>) -> Status {
        Status::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", message)
    }

    pub fn not_found(kind: &str, name: &str) -> Status {
        Status::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{kind} {name:?} not found"),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Status {
        Status::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Status {
        Status::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub fn method_not_allowed(allowed: &str) -> Status {
        Status::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("this resource answers {allowed}"),
        )
    }
}

impl From<MetadataError> for Status {
    fn from(e: MetadataError) -> Status {
        match e {
            MetadataError::AlreadyExists(what) => Status::new(
                StatusCode::CONFLICT,
                "AlreadyExists",
                format!("{what} already exists"),
            ),
            MetadataError::NotFound(what) => Status::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{what} not found"),
            ),
            MetadataError::Conflict(_) => {
                Status::new(StatusCode::CONFLICT, "Conflict", e.to_string())
            }
            other => {
                tracing::error!(error = %other, "metadata backend failure");
                Status {
                    retry_after: Some(1),
                    ..Status::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ServiceUnavailable",
                        "the metadata store failed; try again",
                    )
                }
            }
        }
    }
}

impl From<AuthFailure> for Status {
    fn from(e: AuthFailure) -> Status {
        match e {
            AuthFailure::Malformed(Malformed(m)) => Status::bad_request(m),
            AuthFailure::Auth(AuthError::Invalid(m)) => Status::unauthorized(m),
            AuthFailure::Auth(AuthError::Throttled(wait)) => Status {
                retry_after: Some(wait.as_secs().max(1)),
                ..Status::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    AuthError::Throttled(wait).to_string(),
                )
            },
            AuthFailure::Auth(AuthError::Backend(e)) => e.into(),
        }
    }
}

impl Status {
    /// The Kubernetes `Status` object.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        })
    }
}

impl IntoResponse for Status {
    fn into_response(self) -> Response {
        let body = self.to_json();
        let mut response = (self.code, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.code == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"berth\""),
            );
        }
        response
    }
}

/// The `Status` of a successful delete.
pub fn deleted(kind: &str, name: &str) -> Response {
    axum::Json(json!({
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Success",
        "details": { "name": name, "kind": kind },
    }))
    .into_response()
}
