//! Credentials on HTTP: reading `Authorization`, the client's address, and the
//! `WWW-Authenticate` challenge that sends registry clients to `/openshift/token`.
//! The decisions are `berth-access`'s.

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, StatusCode};
use base64::Engine;
use berth_access::{AuthError, Caller};
use berth_oci::ErrorCode;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::error::ApiError;
use crate::AppState;

/// Longest `Authorization` header read; longer ones are refused unread.
const MAX_AUTHORIZATION: usize = 16 * 1024;

/// Credentials as a request carries them.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials {
    None,
    Basic { user: String, secret: String },
    Bearer(String),
}

/// Why the credentials could not even be read.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

pub fn credentials(headers: &HeaderMap) -> Result<Credentials, Malformed> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = all.next() else {
        return Ok(Credentials::None);
    };
    if all.next().is_some() {
        return Err(Malformed(
            "more than one Authorization header: send one".into(),
        ));
    }
    if value.len() > MAX_AUTHORIZATION {
        return Err(Malformed("the Authorization header is too long".into()));
    }
    let value = value
        .to_str()
        .map_err(|_| Malformed("the Authorization header is not ASCII".into()))?;
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| Malformed("the Basic credentials are not valid base64".into()))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| Malformed("the Basic credentials are not UTF-8".into()))?;
        let (user, secret) = decoded
            .split_once(':')
            .ok_or_else(|| Malformed("the Basic credentials are not user:password".into()))?;
        if decoded.chars().any(char::is_control) {
            return Err(Malformed(
                "the Basic credentials hold control characters".into(),
            ));
        }
        return Ok(Credentials::Basic {
            user: user.to_string(),
            secret: secret.to_string(),
        });
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        if rest.is_empty() {
            return Err(Malformed("the Bearer token is empty".into()));
        }
        return Ok(Credentials::Bearer(rest.to_string()));
    }
    Err(Malformed(format!(
        "the Authorization scheme {:?} is not supported: use Basic or Bearer",
        scheme.chars().take(20).collect::<String>()
    )))
}

/// The client's address, for slowing down repeated failed logins.
pub fn client_ip(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Who is calling. Without credentials, or with access control off, the caller is anonymous.
pub async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    ip: IpAddr,
) -> Result<Caller, AuthFailure> {
    if !app.access.enabled() {
        return Ok(Caller::anonymous());
    }
    match credentials(headers).map_err(AuthFailure::Malformed)? {
        Credentials::None => Ok(Caller::anonymous()),
        Credentials::Basic { user, secret } => app
            .access
            .authenticate_basic(&user, &secret, ip)
            .await
            .map_err(AuthFailure::Auth),
        Credentials::Bearer(token) => app
            .access
            .authenticate_bearer(&token)
            .await
            .map_err(AuthFailure::Auth),
    }
}

#[derive(Debug)]
pub enum AuthFailure {
    Malformed(Malformed),
    Auth(AuthError),
}

impl AuthFailure {
    /// As a registry (OCI envelope) error, with a challenge where the client should log in.
    pub fn registry_error(self, challenge: &Challenge) -> ApiError {
        match self {
            AuthFailure::Malformed(Malformed(m)) => {
                ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Unauthorized, m)
            }
            AuthFailure::Auth(AuthError::Invalid(m)) => {
                challenge.unauthorized(m, Some("invalid_token"))
            }
            AuthFailure::Auth(AuthError::Throttled(wait)) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyRequests,
                AuthError::Throttled(wait).to_string(),
            )
            .with_header(header::RETRY_AFTER, wait.as_secs().max(1).to_string()),
            AuthFailure::Auth(AuthError::Backend(e)) => {
                ApiError::from(berth_core::RegistryError::Metadata(e))
            }
        }
    }
}

/// What a `WWW-Authenticate: Bearer …` challenge says.
pub struct Challenge {
    pub realm: String,
    pub service: String,
    pub scope: Option<String>,
}

impl Challenge {
    /// The challenge for a request: the realm is this server as the client addressed it.
    pub fn for_request(app: &AppState, headers: &HeaderMap, scope: Option<String>) -> Challenge {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_plain_host(h))
            .map(str::to_string)
            .unwrap_or_else(|| app.listen_host.clone());
        Challenge {
            realm: format!("{}://{host}/openshift/token", app.scheme),
            service: host,
            scope,
        }
    }

    pub fn header(&self, error: Option<&str>) -> String {
        let mut h = format!(
            "Bearer realm=\"{}\",service=\"{}\"",
            self.realm, self.service
        );
        if let Some(scope) = &self.scope {
            h.push_str(&format!(",scope=\"{scope}\""));
        }
        if let Some(error) = error {
            h.push_str(&format!(",error=\"{error}\""));
        }
        h
    }

    /// 401 UNAUTHORIZED with this challenge.
    pub fn unauthorized(&self, message: impl Into<String>, error: Option<&str>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
            .with_header(header::WWW_AUTHENTICATE, self.header(error))
    }
}

/// A `Host` value safe to echo into a header: a name or address and a port, nothing else.
fn is_plain_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn reads_basic_and_bearer() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("u:p:q");
        assert_eq!(
            credentials(&with(&format!("Basic {b64}"))),
            Ok(Credentials::Basic {
                user: "u".into(),
                secret: "p:q".into()
            })
        );
        assert_eq!(
            credentials(&with("bearer abc")),
            Ok(Credentials::Bearer("abc".into()))
        );
        assert_eq!(credentials(&HeaderMap::new()), Ok(Credentials::None));
    }

    #[test]
    fn refuses_malformed_credentials() {
        let nocolon = base64::engine::general_purpose::STANDARD.encode("justuser");
        let control = base64::engine::general_purpose::STANDARD.encode("u:p\u{0}");
        for bad in [
            "Basic !!!".to_string(),
            format!("Basic {nocolon}"),
            format!("Basic {control}"),
            "Bearer".to_string(),
            "Digest x".to_string(),
            format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION)),
        ] {
            assert!(credentials(&with(&bad)).is_err(), "{bad:.40}");
        }
    }

    #[test]
    fn host_is_echoed_only_when_plain() {
        assert!(is_plain_host("registry.example.com:5000"));
        assert!(is_plain_host("[::1]:5000"));
        assert!(!is_plain_host("evil\",realm=\"x"));
        assert!(!is_plain_host("a b"));
    }
}
