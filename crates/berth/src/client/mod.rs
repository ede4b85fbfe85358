//! The `berth` client, modelled on `oc`: it talks to a Berth server's API resources
//! (docs/api.md) with the token stored by `berth login`.

mod args;
mod commands;
pub mod config;
mod get;
mod login;
mod output;
mod policy;
mod tags;
mod watch;

pub use args::ClientCommand;
pub use commands::run;

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A failed client command: what to tell the user, and the exit code.
#[derive(Debug)]
pub struct ClientError {
    pub message: String,
    pub code: u8,
}

impl ClientError {
    pub fn new(message: impl Into<String>) -> ClientError {
        ClientError {
            message: message.into(),
            code: 1,
        }
    }

    pub fn usage(message: impl Into<String>) -> ClientError {
        ClientError {
            message: message.into(),
            code: 2,
        }
    }
}

/// Where a command sends its requests, and as whom.
pub struct Session {
    pub server: String,
    pub token: Option<String>,
    http: reqwest::Client,
    insecure: bool,
}

impl Session {
    pub fn new(
        server: &str,
        token: Option<String>,
        insecure: bool,
    ) -> Result<Session, ClientError> {
        let server = server.trim_end_matches('/').to_string();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(ClientError::usage(format!(
                "{server:?} is not a server URL: use http://HOST:PORT or https://HOST:PORT"
            )));
        }
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(insecure)
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| ClientError::new(format!("cannot set up HTTP: {e}")))?;
        Ok(Session {
            server,
            token,
            http,
            insecure,
        })
    }

    /// Sends a request with the session's token (or the given Basic credentials) and answers
    /// the JSON body of a success; a failure becomes a message with what to do next.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        basic: Option<(&str, &str)>,
    ) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.server);
        let mut request = self.http.request(method.clone(), &url);
        match (basic, &self.token) {
            (Some((user, password)), _) => request = request.basic_auth(user, Some(password)),
            (None, Some(token)) => request = request.bearer_auth(token),
            (None, None) => {}
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.map_err(|e| {
            ClientError::new(format!(
                "cannot reach the server {}: {}",
                self.server,
                root_cause(&e)
            ))
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(json);
        }
        let message = json["message"]
            .as_str()
            .or_else(|| json["errors"][0]["message"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("the server answered {status} to {method} {path}"));
        Err(ClientError::new(match status {
            StatusCode::UNAUTHORIZED if basic.is_none() => format!(
                "{}\nyour session may have expired or been revoked: run berth login {}",
                labelled("unauthorized", &message),
                self.server
            ),
            StatusCode::UNAUTHORIZED => labelled("login failed", &message),
            StatusCode::FORBIDDEN => labelled("forbidden", &message),
            StatusCode::NOT_FOUND => labelled("not found", &message),
            StatusCode::CONFLICT => labelled("conflict", &message),
            _ => labelled("error", &message),
        }))
    }
}

/// `label: message`, unless the server's message already says it (`login failed: login
/// failed: …` helps nobody).
fn labelled(label: &str, message: &str) -> String {
    if message.to_lowercase().contains(label) {
        message.to_string()
    } else {
        format!("{label}: {message}")
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    cause
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_are_labelled_once() {
        assert_eq!(
            super::labelled("forbidden", "alice may not"),
            "forbidden: alice may not"
        );
        assert_eq!(
            super::labelled("login failed", "login failed: wrong password"),
            "login failed: wrong password"
        );
        assert_eq!(
            super::labelled("not found", "project \"x\" not found"),
            "project \"x\" not found"
        );
    }
}
