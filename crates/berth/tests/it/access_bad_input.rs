//! Hostile input against access control: oversized and malformed credentials, forged, unsigned,
//! expired and tampered tokens, injected scopes and hosts, guessing, and credentials that were
//! valid once. Each gets a clear 400/401 (429 when guessing), never a server error or a success,
//! and changes nothing.

use crate::support::access::{basic, registry_client, token_response, Api};
use crate::support::registry::{Image, Registry};
use crate::support::{databases, Db, TestServer};
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;

const HTTP_SECRET: &str = "a known secret for forging tests";

/// What an administrator sees: catalog, tags, tokens and bindings. Compared before and after.
async fn state(server: &TestServer, admin: &Api) -> Value {
    let reg = Registry::authorized(&server.base, &basic("x", &admin.token));
    let tokens: Value = admin
        .get("/apis/oauth.openshift.io/v1/oauthaccesstokens")
        .await
        .json()
        .await
        .unwrap();
    let bindings: Value = admin
        .get("/apis/authorization.openshift.io/v1/namespaces/team/rolebindings")
        .await
        .json()
        .await
        .unwrap();
    let users: Value = admin
        .get("/apis/user.openshift.io/v1/users")
        .await
        .json()
        .await
        .unwrap();
    json!({
        "catalog": reg.catalog().await,
        "tags": reg.tags("team/app").await,
        "tokens": tokens["items"].as_array().map(|a| a.iter().map(|t| t["metadata"]["name"].clone()).collect::<Vec<_>>()),
        "bindings": bindings["items"],
        "users": users["items"].as_array().map(|a| a.len()),
    })
}

async fn setup(db: Db) -> (TestServer, Api) {
    let server = TestServer::start_secure_with(db, &["--http-secret", HTTP_SECRET]);
    let admin = Api::admin(&server).await;
    admin.create_project("team").await;
    let reg = registry_client(
        &server.base,
        Some(&admin.token),
        &["repository:team/app:pull,push"],
    )
    .await;
    reg.push_image("team/app", "v1", &Image::generated(3, 1))
        .await;
    (server, admin)
}

/// Sends `authorization` (raw header bytes) with `method` to `path`.
async fn with_authorization(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    authorization: &[u8],
) -> reqwest::Response {
    let value = reqwest::header::HeaderValue::from_bytes(authorization).expect("header bytes");
    reqwest::Client::new()
        .request(method, server.url(path))
        .header("authorization", value)
        .body(if path.contains("uploads") {
            b"data".to_vec()
        } else {
            Vec::new()
        })
        .send()
        .await
        .expect("request")
}

const PATHS: [(&str, &str); 5] = [
    ("GET", "/v2/"),
    ("GET", "/v2/team/app/manifests/v1"),
    ("POST", "/v2/team/app/blobs/uploads/"),
    (
        "GET",
        "/openshift/token?scope=repository:team/app:pull,push",
    ),
    ("GET", "/apis/project.openshift.io/v1/projects"),
];

fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn jwt_part(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// A registry token signed HS256 with `key`.
fn sign(claims: &Value, key: &[u8]) -> String {
    let head = jwt_part(&json!({"alg": "HS256", "typ": "JWT"}));
    let body = jwt_part(claims);
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{head}.{body}").as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{head}.{body}.{sig}")
}

/// The key the server derives from its `httpSecret`.
fn server_key() -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(HTTP_SECRET.as_bytes()).unwrap();
    mac.update(b"berth registry token signing key v1");
    mac.finalize().into_bytes().to_vec()
}

fn claims(sub: &str, exp_offset: i64) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    json!({
        "iss": "berth", "sub": sub, "aud": "x", "exp": now + exp_offset, "nbf": now - 10, "iat": now - 10,
        "jti": "forged", "access": [{"type": "repository", "name": "team/app", "actions": ["pull", "push", "delete"]}],
    })
}

#[tokio::test]
async fn malformed_and_oversized_credentials_are_refused_and_change_nothing() {
    for db in databases() {
        let (server, admin) = setup(db).await;
        let before = state(&server, &admin).await;
        let long = "a".repeat(20 * 1024);
        let very_long = "b".repeat(100 * 1024);
        let cases: Vec<(String, Vec<u8>)> = vec![
            (
                "20 KiB bearer".into(),
                format!("Bearer {long}").into_bytes(),
            ),
            (
                "100 KiB basic".into(),
                format!(
                    "Basic {}",
                    b64(format!("{very_long}:{very_long}").as_bytes())
                )
                .into_bytes(),
            ),
            ("not base64".into(), b"Basic !!!not-base64!!!".to_vec()),
            (
                "no colon".into(),
                format!("Basic {}", b64(b"justauser")).into_bytes(),
            ),
            (
                "empty user and password".into(),
                format!("Basic {}", b64(b":")).into_bytes(),
            ),
            (
                "not UTF-8".into(),
                format!("Basic {}", b64(&[0xff, 0xfe, b':', 0xfd])).into_bytes(),
            ),
            (
                "NUL inside".into(),
                format!("Basic {}", b64(b"admin:pass\0word")).into_bytes(),
            ),
            ("basic with nothing".into(), b"Basic".to_vec()),
            ("bearer with nothing".into(), b"Bearer ".to_vec()),
            (
                "digest scheme".into(),
                b"Digest username=\"admin\"".to_vec(),
            ),
            ("negotiate scheme".into(), b"Negotiate abc".to_vec()),
            ("a.b.c".into(), b"Bearer a.b.c".to_vec()),
            (
                "garbage JWT".into(),
                format!(
                    "Bearer {}.{}.{}",
                    jwt_part(&json!({"alg": "HS256"})),
                    b64(b"{not json"),
                    "c2ln"
                )
                .into_bytes(),
            ),
            (
                "unknown api token".into(),
                format!("Bearer sha256~{}", "A".repeat(43)).into_bytes(),
            ),
            (
                "non-ASCII header".into(),
                "Bearer caf\u{e9}".as_bytes().to_vec(),
            ),
        ];
        for (name, value) in &cases {
            for (method, path) in PATHS {
                let r = with_authorization(&server, method.parse().unwrap(), path, value).await;
                let status = r.status();
                assert!(
                    status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
                    "{db:?} {name} on {method} {path}: {status}"
                );
                let body: Value = r.json().await.unwrap_or(Value::Null);
                let code = body["errors"][0]["code"]
                    .as_str()
                    .or(body["reason"].as_str());
                assert!(
                    code.is_some(),
                    "{name} on {path}: no error envelope or Status: {body}"
                );
            }
        }
        // Two Authorization headers: refused too.
        let r = reqwest::Client::new()
            .get(server.url("/v2/team/app/manifests/v1"))
            .header("authorization", basic("x", &admin.token))
            .header("authorization", "Bearer a.b.c")
            .send()
            .await
            .unwrap();
        assert!(
            matches!(
                r.status(),
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED
            ),
            "{}",
            r.status()
        );
        assert_eq!(
            state(&server, &admin).await,
            before,
            "{db:?}: something changed"
        );
    }
}

#[tokio::test]
async fn forged_unsigned_expired_and_tampered_registry_tokens_are_refused() {
    let (server, admin) = setup(Db::Sqlite).await;
    let nobody = admin.user_with_token("nobody").await;
    let before = state(&server, &admin).await;
    let unsigned = format!(
        "{}.{}.",
        jwt_part(&json!({"alg": "none", "typ": "JWT"})),
        jwt_part(&claims("admin", 600))
    );
    let other_key = sign(&claims("admin", 600), b"some other key");
    let expired = sign(&claims("admin", -3600), &server_key());
    // A genuine token for a user with nothing, its payload edited to claim admin.
    let r: Value = token_response(
        &server.base,
        Some(&basic("x", &nobody)),
        &["repository:team/app:pull,push"],
    )
    .await
    .json()
    .await
    .unwrap();
    let genuine = r["token"].as_str().unwrap().to_string();
    let parts: Vec<&str> = genuine.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        jwt_part(&claims("admin", 600)),
        parts[2]
    );
    // Signed with the right key but for a user that does not exist.
    let ghost = sign(&claims("ghost", 600), &server_key());
    for (name, token) in [
        ("alg none", unsigned),
        ("another key", other_key),
        ("expired", expired),
        ("tampered", tampered),
        ("unknown subject", ghost),
    ] {
        for (method, path) in [
            ("GET", "/v2/team/app/manifests/v1"),
            ("POST", "/v2/team/app/blobs/uploads/"),
            ("DELETE", "/v2/team/app/manifests/v1"),
        ] {
            let r = with_authorization(
                &server,
                method.parse().unwrap(),
                path,
                format!("Bearer {token}").as_bytes(),
            )
            .await;
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{name} on {method} {path}"
            );
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED", "{name}");
        }
    }
    // A genuine token used beyond its scope asks for a new one (401 insufficient_scope).
    let scoped = registry_client(
        &server.base,
        Some(&admin.token),
        &["repository:team/app:pull"],
    )
    .await;
    for (method, path) in [
        ("GET", "/v2/team/other/tags/list"),
        ("POST", "/v2/team/app/blobs/uploads/"),
    ] {
        let r = scoped
            .http
            .request(method.parse().unwrap(), scoped.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    }
    // The genuine token itself grants the nobody user nothing, and is refused on /apis.
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["access"][0]["actions"], json!([]), "{payload}");
    let r = with_authorization(
        &server,
        reqwest::Method::GET,
        "/apis/user.openshift.io/v1/users/~",
        format!("Bearer {genuine}").as_bytes(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = with_authorization(
        &server,
        reqwest::Method::GET,
        "/v2/team/app/manifests/v1",
        format!("Bearer {genuine}").as_bytes(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(state(&server, &admin).await, before);
}

#[tokio::test]
async fn injected_scopes_and_hosts_get_400_and_grants_never_exceed_roles() {
    let (server, admin) = setup(Db::Sqlite).await;
    let viewer = admin.user_with_token("viewer").await;
    admin
        .bind("team", "registry-viewer", "User", "viewer")
        .await;
    let before = state(&server, &admin).await;
    let auth = basic("x", &viewer);
    let hundred: Vec<String> = (0..100)
        .map(|i| format!("repository:team/a{i}:pull"))
        .collect();
    let bad_scopes: Vec<String> = vec![
        "repository:team/app:pull\",push".into(),
        "repository:team/app:pull push\r\nX-Injected: 1".into(),
        "repository:../etc:pull".into(),
        "repository:TEAM/app:pull".into(),
        "repository:team/app/extra:pull".into(),
        "repository:team/app:pull;rm".into(),
        "repository:team/app".into(),
        format!("repository:team/{}:pull", "x".repeat(5000)),
        "repository:team/app:pull\0".into(),
    ];
    for scope in &bad_scopes {
        let r = token_response(&server.base, Some(&auth), &[scope]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{scope:?}");
    }
    let refs: Vec<&str> = hundred.iter().map(String::as_str).collect();
    assert_eq!(
        token_response(&server.base, Some(&auth), &refs)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    // A viewer asking for everything gets pull only.
    let r: Value = token_response(
        &server.base,
        Some(&auth),
        &["repository:team/app:pull,push,delete,*"],
    )
    .await
    .json()
    .await
    .unwrap();
    let token = r["token"].as_str().unwrap();
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        payload["access"],
        json!([{"type": "repository", "name": "team/app", "actions": ["pull"]}])
    );
    // A Host header with quotes never reaches the challenge.
    let r = reqwest::Client::new()
        .get(server.url("/v2/"))
        .header("host", "evil\",realm=\"http://attacker")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap();
    assert!(!challenge.contains("attacker"), "{challenge}");
    assert_eq!(challenge.matches("realm=").count(), 1);
    assert_eq!(state(&server, &admin).await, before);
}

#[tokio::test]
async fn user_names_with_a_colon_fail_login_clearly() {
    let (server, admin) = setup(Db::Sqlite).await;
    // podman login -u a:b -p <token> sends Basic a:b:<token>.
    let r = token_response(
        &server.base,
        Some(&basic("a:b", &admin.token)),
        &["repository:team/app:pull"],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("':'"),
        "{body}"
    );
    let r = admin
        .post(
            "/apis/user.openshift.io/v1/users",
            json!({"metadata": {"name": "a:b"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Invalid");
}

#[tokio::test]
async fn guessing_is_slowed_down_then_refused() {
    let (server, admin) = setup(Db::Sqlite).await;
    let mut slowest = std::time::Duration::ZERO;
    let mut refused = false;
    for i in 0..20 {
        let started = std::time::Instant::now();
        let r = token_response(
            &server.base,
            Some(&basic("admin", &format!("guess-{i}"))),
            &[],
        )
        .await;
        slowest = slowest.max(started.elapsed());
        match r.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(r.headers().contains_key("retry-after"));
                refused = true;
                break;
            }
            other => panic!("guess {i}: {other}"),
        }
    }
    assert!(
        slowest >= std::time::Duration::from_millis(400),
        "failures were never slowed: {slowest:?}"
    );
    assert!(refused, "a client guessing 20 times was never refused");
    // Tokens still work from that client: only password guesses are refused.
    let r = token_response(&server.base, Some(&basic("x", &admin.token)), &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a token login from the same client was refused"
    );
}

#[tokio::test]
async fn expired_and_orphaned_api_tokens_stop_working() {
    for db in databases() {
        let (server, admin) = setup(db).await;
        let short = admin
            .post(
                "/apis/oauth.openshift.io/v1/oauthaccesstokens",
                json!({"userName": "admin", "expiresIn": 1}),
            )
            .await;
        let short: Value = short.json().await.unwrap();
        let short = short["token"].as_str().unwrap().to_string();
        admin.create_user("temp", None).await;
        admin.bind("team", "registry-viewer", "User", "temp").await;
        let (_, temp) = admin.create_token("temp").await;
        admin.create_service_account("team", "bot").await;
        admin
            .bind("team", "system:image-puller", "ServiceAccount", "bot")
            .await;
        let (_, bot) = admin.create_token("system:serviceaccount:team:bot").await;
        let temp_reg =
            registry_client(&server.base, Some(&temp), &["repository:team/app:pull"]).await;
        let bot_reg =
            registry_client(&server.base, Some(&bot), &["repository:team/app:pull"]).await;
        assert_eq!(
            temp_reg.get("/v2/team/app/manifests/v1").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            bot_reg.get("/v2/team/app/manifests/v1").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            admin
                .delete("/apis/user.openshift.io/v1/users/temp")
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            admin
                .delete("/api/v1/namespaces/team/serviceaccounts/bot")
                .await
                .status(),
            StatusCode::OK
        );
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        for (name, token) in [
            ("expired", &short),
            ("deleted user", &temp),
            ("deleted service account", &bot),
        ] {
            let r = Api::with_token(&server.base, token)
                .get("/apis/user.openshift.io/v1/users/~")
                .await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{db:?} {name}");
            let r = Registry::authorized(&server.base, &basic("x", token))
                .get("/v2/team/app/manifests/v1")
                .await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{db:?} {name}");
        }
        for (name, reg) in [
            ("deleted user", &temp_reg),
            ("deleted service account", &bot_reg),
        ] {
            assert_eq!(
                reg.get("/v2/team/app/manifests/v1").await.status(),
                StatusCode::UNAUTHORIZED,
                "{db:?} registry token of a {name}"
            );
        }
    }
}
