//! Access control from a test's side: an API client that logs in, makes projects, users,
//! service accounts, tokens and bindings, and gets registry tokens the way podman does.

use base64::Engine;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

use super::registry::Registry;
use super::{TestServer, ADMIN_PASSWORD};

pub fn basic(user: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

/// An API client holding one API token.
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: Client,
}

impl Api {
    /// Logs in as the administrator of a secured test server.
    pub async fn admin(server: &TestServer) -> Api {
        Api::login(&server.base, "admin", ADMIN_PASSWORD).await
    }

    /// Logs in with a password: creates an API token with Basic auth.
    pub async fn login(base: &str, user: &str, password: &str) -> Api {
        let r = Client::new()
            .post(format!(
                "{base}/apis/oauth.openshift.io/v1/oauthaccesstokens"
            ))
            .header("authorization", basic(user, password))
            .json(&json!({}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), StatusCode::CREATED, "login as {user}");
        let body: Value = r.json().await.expect("token JSON");
        Api::with_token(base, body["token"].as_str().expect("token"))
    }

    pub fn with_token(base: &str, token: &str) -> Api {
        Api {
            base: base.to_string(),
            token: token.to_string(),
            http: Client::new(),
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.expect("API request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let r = self.post(path, body.clone()).await;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::CREATED, "POST {path} {body}: {text}");
        serde_json::from_str(&text).expect("JSON")
    }

    pub async fn create_project(&self, name: &str) {
        self.created(
            "/apis/project.openshift.io/v1/projects",
            json!({"metadata": {"name": name}}),
        )
        .await;
    }

    pub async fn create_user(&self, name: &str, password: Option<&str>) {
        let mut body = json!({"metadata": {"name": name}});
        if let Some(p) = password {
            body["password"] = json!(p);
        }
        self.created("/apis/user.openshift.io/v1/users", body).await;
    }

    pub async fn create_service_account(&self, project: &str, name: &str) {
        self.created(
            &format!("/api/v1/namespaces/{project}/serviceaccounts"),
            json!({"metadata": {"name": name}}),
        )
        .await;
    }

    /// Creates an API token for `user` (a user or `system:serviceaccount:p:n`); answers its
    /// id and secret.
    pub async fn create_token(&self, user: &str) -> (String, String) {
        let v = self
            .created(
                "/apis/oauth.openshift.io/v1/oauthaccesstokens",
                json!({"userName": user}),
            )
            .await;
        (
            v["metadata"]["name"].as_str().expect("id").to_string(),
            v["token"].as_str().expect("token").to_string(),
        )
    }

    /// Creates a user with a token of its own; answers the token.
    pub async fn user_with_token(&self, name: &str) -> String {
        self.create_user(name, None).await;
        self.create_token(name).await.1
    }

    /// Binds `role` in `project` (`""`: cluster-wide) to a `User`, `Group` or
    /// `ServiceAccount`.
    pub async fn bind(&self, project: &str, role: &str, kind: &str, name: &str) {
        let path = if project.is_empty() {
            "/apis/authorization.openshift.io/v1/clusterrolebindings".to_string()
        } else {
            format!("/apis/authorization.openshift.io/v1/namespaces/{project}/rolebindings")
        };
        self.created(
            &path,
            json!({"roleRef": {"name": role}, "subjects": [{"kind": kind, "name": name}]}),
        )
        .await;
    }
}

/// Asks `/openshift/token` for a registry token as podman does; answers the response.
pub async fn token_response(base: &str, authorization: Option<&str>, scopes: &[&str]) -> Response {
    let mut url = format!("{base}/openshift/token?service=berth");
    for s in scopes {
        url.push_str("&scope=");
        url.push_str(&form_urlencoded_value(s));
    }
    let mut r = Client::new().get(url);
    if let Some(a) = authorization {
        r = r.header("authorization", a);
    }
    r.send().await.expect("token request")
}

/// A registry client logged in with `api_token` through the token endpoint, for `scopes`.
pub async fn registry_client(base: &str, api_token: Option<&str>, scopes: &[&str]) -> Registry {
    let auth = api_token.map(|t| basic("anything", t));
    let r = token_response(base, auth.as_deref(), scopes).await;
    assert_eq!(r.status(), StatusCode::OK, "token endpoint");
    let body: Value = r.json().await.expect("token JSON");
    Registry::authorized(
        base,
        &format!("Bearer {}", body["token"].as_str().expect("token")),
    )
}

fn form_urlencoded_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
