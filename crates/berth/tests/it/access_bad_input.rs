//! Hostile input against access control (SPEC §3, §9 invariants 5–6): oversized and malformed
//! credentials, forged, unsigned, expired and tampered tokens, injected scopes and hosts, user
//! names with ':', password guessing, and credentials that were valid once. Each gets its
//! documented refusal — 400/401 (403, 429 where documented) in the OCI error envelope on `/v2/`
//! and `/openshift/token`, a Kubernetes `Status` on `/apis` — never a server error, a success or
//! a hang, and changes nothing: catalog, tags, stored files, tokens, bindings, users, projects
//! and service accounts are compared before and after.
//!
//! Every hostile request comes from a loopback address of its own (127.1.x.y), so the login
//! throttle, tested on servers of its own, never decides an answer elsewhere. Table-driven
//! tests collect every wrong answer and fail once with the whole list.

use crate::support::access::{basic, registry_client, token_response, Api};
use crate::support::baseline::{raw, storage_files, Hangup};
use crate::support::registry::{sha256, Image, Registry};
use crate::support::{databases, Db, TestServer, ADMIN_PASSWORD};
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const HTTP_SECRET: &str = "a known secret for forging tests";

/// Reads and writes on every surface — the registry (a blob GET among them), the token endpoint,
/// the API — some of which would change state if let through. `{blob}` is `team/app:v1`'s config.
#[rustfmt::skip]
const TARGETS: [(&str, &str, &[u8]); 8] = [
    ("GET", "/v2/", b""),
    ("GET", "/v2/team/app/blobs/{blob}", b""),
    ("POST", "/v2/team/app/blobs/uploads/", b"data"),
    ("DELETE", "/v2/team/app/manifests/v1", b""),
    ("GET", "/openshift/token?service=berth&scope=repository:team/app:pull,push", b""),
    ("GET", "/apis/project.openshift.io/v1/projects", b""),
    ("POST", "/apis/oauth.openshift.io/v1/oauthaccesstokens", br#"{"userName":"admin"}"#),
    ("DELETE", "/apis/project.openshift.io/v1/projects/team", b""),
];
/// Indexes into [`TARGETS`].
const BLOB: usize = 1;
const UPLOAD: usize = 2;
const DELETE_MANIFEST: usize = 3;
const TOKEN: usize = 4;
const PROJECTS: usize = 5;
const NEW_TOKEN: usize = 6;
const DELETE_PROJECT: usize = 7;

struct Target {
    method: &'static str,
    path: String,
    body: &'static [u8],
}

impl Target {
    /// Whether refusals come as a Kubernetes `Status` rather than in the OCI envelope.
    fn kube(&self) -> bool {
        self.path.starts_with("/api")
    }
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
    took: Duration,
}

/// A loopback client address of its own for case `a`, request `b`.
fn from(a: usize, b: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 1, a as u8, b as u8 + 1))
}

/// Sends `t` from `ip` with one `Authorization` header per entry of `auth` (raw bytes).
async fn send(server: &TestServer, ip: IpAddr, t: &Target, auth: &[Vec<u8>]) -> Reply {
    let client = reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(20));
    let mut req = (client.build().unwrap())
        .request(t.method.parse().unwrap(), server.url(&t.path))
        .body(t.body.to_vec());
    if t.body.starts_with(b"{") {
        req = req.header("content-type", "application/json");
    }
    for a in auth {
        req = req.header("authorization", HeaderValue::from_bytes(a).expect("header"));
    }
    let started = Instant::now();
    let r = (req.send().await).unwrap_or_else(|e| panic!("{} {}: {e}", t.method, t.path));
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let body = r.json().await.unwrap_or(Value::Null);
    let took = started.elapsed();
    Reply {
        status,
        headers,
        body,
        took,
    }
}

/// Checks a refusal: its status, the error code or `Status` reason that goes with it, a
/// well-formed challenge on a registry 401 and `Retry-After` on a 429.
fn refusal(r: &Reply, status: u16, t: &Target, host: &str) -> Result<(), String> {
    let code = match (t.kube(), status) {
        (false, 400 | 401) => "UNAUTHORIZED",
        (false, 403) => "DENIED",
        (false, _) => "TOOMANYREQUESTS",
        (true, 400) => "BadRequest",
        (true, 401) => "Unauthorized",
        (true, 403) => "Forbidden",
        (true, _) => "TooManyRequests",
    };
    let got = r.body.pointer(if t.kube() {
        "/reason"
    } else {
        "/errors/0/code"
    });
    if r.status != status || got.and_then(Value::as_str) != Some(code) {
        let (s, b) = (r.status, &r.body);
        return Err(format!("wanted {status} {code}, got {s} {b}"));
    }
    if status == 401 && !t.kube() {
        challenge_ok(&r.headers, host)?;
    }
    if status == 429 && !r.headers.contains_key("retry-after") {
        return Err("429 without Retry-After".into());
    }
    Ok(())
}

/// The challenge names this server as `host` and holds nothing else but an optional repository
/// scope and an optional error: no echoed input, one realm, balanced quotes.
fn challenge_ok(headers: &HeaderMap, host: &str) -> Result<(), String> {
    let c = headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok());
    let c = c.ok_or("no WWW-Authenticate, or not ASCII")?;
    let prefix = format!("Bearer realm=\"http://{host}/openshift/token\",service=\"{host}\"");
    let bad = || format!("malformed challenge {c:?}");
    let mut rest = c.strip_prefix(&prefix).ok_or_else(bad)?;
    if let Some(s) = rest.strip_prefix(",scope=\"repository:") {
        let (scope, after) = s.split_once('"').ok_or_else(bad)?;
        let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/._-:,".contains(&b);
        if !scope.bytes().all(plain) {
            return Err(bad());
        }
        rest = after;
    }
    match rest {
        "" | ",error=\"invalid_token\"" | ",error=\"insufficient_scope\"" => Ok(()),
        _ => Err(bad()),
    }
}

struct Fixture {
    server: TestServer,
    admin: Api,
    targets: Vec<Target>,
    /// This server as clients address it, as the challenge must name it.
    host: String,
}

/// A secured server with a known `httpSecret`, project `team` and `team/app:v1` pushed.
async fn setup(db: Db) -> Fixture {
    let server = TestServer::start_secure_with(db, &["--http-secret", HTTP_SECRET]);
    let admin = Api::admin(&server).await;
    admin.create_project("team").await;
    let scope = ["repository:team/app:pull,push"];
    let reg = registry_client(&server.base, Some(&admin.token), &scope).await;
    let image = Image::generated(3, 1);
    reg.push_image("team/app", "v1", &image).await;
    let blob = sha256(&image.config);
    let targets = (TARGETS.iter())
        .map(|&(method, p, body)| Target {
            method,
            path: p.replace("{blob}", &blob),
            body,
        })
        .collect();
    let host = server.addr.clone();
    Fixture {
        server,
        admin,
        targets,
        host,
    }
}

/// Everything a refused request must leave alone, as the administrator sees it.
async fn snapshot(f: &Fixture) -> Value {
    let reg = Registry::authorized(&f.server.base, &basic("x", &f.admin.token));
    let mut s = json!({
        "catalog": reg.catalog().await,
        "tags": reg.tags("team/app").await,
        "files": storage_files(&f.server.storage_dir()),
    });
    for path in [
        "/apis/oauth.openshift.io/v1/oauthaccesstokens",
        "/apis/authorization.openshift.io/v1/namespaces/team/rolebindings",
        "/apis/authorization.openshift.io/v1/clusterrolebindings",
        "/apis/user.openshift.io/v1/users",
        "/apis/project.openshift.io/v1/projects",
        "/api/v1/namespaces/team/serviceaccounts",
    ] {
        let v: Value = f.admin.get(path).await.json().await.unwrap();
        s[path] = v["items"].clone();
    }
    s
}

fn basic_of(bytes: impl AsRef<[u8]>) -> Vec<u8> {
    format!("Basic {}", B64.encode(bytes)).into_bytes()
}

fn bearer(token: &str) -> Vec<u8> {
    format!("Bearer {token}").into_bytes()
}

fn finish(wrong: Vec<String>) {
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
}

/// Sends every case to every target, each from its own address; answers the wrong answers.
async fn run_cases(f: &Fixture, cases: &[(&str, Vec<Vec<u8>>, u16)]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (i, (name, auth, status)) in cases.iter().enumerate() {
        for (j, t) in f.targets.iter().enumerate() {
            let r = send(&f.server, from(i, j), t, auth).await;
            if let Err(e) = refusal(&r, *status, t, &f.host) {
                let db = f.server.db;
                wrong.push(format!("{db:?} {name}: {} {}: {e}", t.method, t.path));
            }
        }
    }
    wrong
}

#[tokio::test]
async fn malformed_and_oversized_credentials_are_refused_and_change_nothing() {
    let mut wrong = Vec::new();
    for db in databases() {
        let f = setup(db).await;
        let before = snapshot(&f).await;
        let kib = |n: usize| "u".repeat(n << 10);
        let unknown = format!("sha256~{}", "A".repeat(43));
        let valid = basic("admin", ADMIN_PASSWORD).into_bytes();
        let one = |v: &[u8]| vec![v.to_vec()];
        #[rustfmt::skip]
        let cases: Vec<(&str, Vec<Vec<u8>>, u16)> = vec![
            ("20 KiB bearer", vec![bearer(&"a".repeat(20 << 10))], 400),
            ("100 KiB bearer", vec![bearer(&"b".repeat(100 << 10))], 400),
            ("20 KiB basic", vec![basic_of(format!("{}:{}", kib(10), kib(10)))], 400),
            ("100 KiB basic", vec![basic_of(format!("{}:{}", kib(50), kib(50)))], 400),
            ("8 KiB user name", vec![basic_of(format!("{}:pw", kib(8)))], 401),
            ("8 KiB password", vec![basic_of(format!("admin:{}", kib(8)))], 401),
            ("not base64", one(b"Basic !!!not-base64!!!"), 400),
            ("no colon", vec![basic_of("admin")], 400),
            ("empty user", vec![basic_of(":some-password")], 401),
            ("empty password", vec![basic_of("admin:")], 401),
            ("empty user and password", vec![basic_of(":")], 401),
            ("not UTF-8", vec![basic_of([0xff, 0xfe, b':', 0xfd])], 400),
            ("NUL after the right password", vec![basic_of(format!("admin:{ADMIN_PASSWORD}\0"))], 400),
            ("control characters", vec![basic_of("ad\x1bmin:pass\x07word")], 400),
            ("Basic and nothing", one(b"Basic"), 400),
            ("Basic and spaces", one(b"Basic    x"), 400),
            ("Bearer and nothing", one(b"Bearer"), 400),
            ("Digest", one(b"Digest username=\"admin\", response=\"x\""), 400),
            ("Negotiate", one(b"Negotiate YIIBhwYGKwYBBQUC"), 400),
            ("raw bytes not ASCII", one(b"Basic \xff\xfe\xfd"), 400),
            ("two headers, one valid", vec![valid.clone(), bearer("a.b.c")], 400),
            ("two valid headers", vec![valid.clone(), valid], 400),
            ("a.b.c", vec![bearer("a.b.c")], 401),
            ("unknown API token", vec![bearer(&unknown)], 401),
            ("unknown API token in Basic", vec![basic_of(format!("admin:{unknown}"))], 401),
            ("a password as Bearer", vec![bearer(ADMIN_PASSWORD)], 401),
        ];
        wrong.extend(run_cases(&f, &cases).await);
        if snapshot(&f).await != before {
            wrong.push(format!("{db:?}: something changed"));
        }
    }
    finish(wrong);
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.unwrap().as_secs() as i64
}

/// The key the server derives from its `httpSecret`: what an attacker who stole the secret
/// would hold. Tests expiry, issuer and subject checks behind a valid signature.
fn server_key() -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HTTP_SECRET.as_bytes()).unwrap();
    mac.update(b"berth registry token signing key v1");
    mac.finalize().into_bytes().to_vec()
}

/// Registry-token claims for `admin`, valid for ten minutes, granting everything everywhere.
fn admin_claims() -> Value {
    let t = now();
    json!({
        "iss": "berth", "sub": "admin", "aud": "berth", "exp": t + 600, "nbf": t - 10,
        "iat": t - 10, "jti": "forged", "groups": ["system:cluster-admins"],
        "roles": ["cluster-admin"], "access": [
            {"type": "repository", "name": "team/app", "actions": ["*"]},
            {"type": "repository", "name": "*", "actions": ["*"]}],
    })
}

fn sign(alg: Algorithm, claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
}

fn part(v: &Value) -> String {
    B64URL.encode(serde_json::to_vec(v).unwrap())
}

/// A JWT's payload, read without verifying it.
fn payload(token: &str) -> Value {
    serde_json::from_slice(&B64URL.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

/// A registry token for `scope`, logging in with Basic `user:secret`.
async fn registry_token(f: &Fixture, user: &str, secret: &str, scope: &str) -> String {
    let r = token_response(&f.server.base, Some(&basic(user, secret)), &[scope]).await;
    assert_eq!(r.status(), StatusCode::OK, "token endpoint");
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn forged_unsigned_expired_and_tampered_tokens_are_refused() {
    let mut wrong = Vec::new();
    for db in databases() {
        let f = setup(db).await;
        let (ts, admin) = (&f.targets, f.admin.token.as_str());
        f.admin.create_user("nobody", None).await;
        let (nobody_id, nobody) = f.admin.create_token("nobody").await;
        let genuine = registry_token(&f, "x", &nobody, "repository:team/app:pull").await;
        let admins = registry_token(&f, "x", admin, "repository:team/app:*").await;
        let pull_only = registry_token(&f, "x", admin, "repository:team/app:pull").await;
        let before = snapshot(&f).await;
        let g: Vec<&str> = genuine.split('.').collect();
        let none = |alg: &str, sig: &str| {
            format!(
                "{}.{}.{sig}",
                part(&json!({"alg": alg, "typ": "JWT"})),
                part(&admin_claims())
            )
        };
        let mut more_access = payload(&genuine);
        more_access["access"][0]["actions"] = json!(["pull", "push", "delete"]);
        let key = server_key();
        let with = |k: &str, v: Value| {
            let mut c = admin_claims();
            c[k] = v;
            sign(Algorithm::HS256, &c, &key)
        };
        #[rustfmt::skip]
        let tokens: Vec<(&str, String)> = vec![
            ("alg none, cluster-admin claims", none("none", "")),
            ("alg None, a genuine signature", none("None", g[2])),
            ("alg NONE", none("NONE", "")),
            ("another key", sign(Algorithm::HS256, &admin_claims(), b"some other key")),
            ("HS512 under the server key", sign(Algorithm::HS512, &admin_claims(), &key)),
            ("expired an hour ago", with("exp", json!(now() - 3600))),
            ("not valid for an hour", with("nbf", json!(now() + 3600))),
            ("another issuer", with("iss", json!("docker"))),
            ("no expiry", with("exp", Value::Null)),
            ("a user that does not exist", with("sub", json!("ghost"))),
            ("a service account without its token", with("sub", json!("system:serviceaccount:team:x"))),
            ("admin on nobody's API token", with("tid", json!(nobody_id))),
            ("sub edited after signing", format!("{}.{}.{}", g[0], part(&admin_claims()), g[2])),
            ("access edited after signing", format!("{}.{}.{}", g[0], part(&more_access), g[2])),
            ("signature removed", format!("{}.{}.", g[0], g[1])),
            ("garbage JSON", format!("{}.{}.c2ln", part(&json!({"alg": "HS256"})), B64URL.encode("{no"))),
            ("four parts", format!("{genuine}.x")),
        ];
        let cases: Vec<(&str, Vec<Vec<u8>>, u16)> = tokens
            .iter()
            .map(|(n, t)| (*n, vec![bearer(t)], 401))
            .collect();
        wrong.extend(run_cases(&f, &cases).await);
        // Genuine registry tokens: for /v2/ only, never beyond the caller's roles, and beyond
        // the scope asked for a 401 insufficient_scope (ask for a new token).
        #[rustfmt::skip]
        let checks: Vec<(&str, &String, &Target, u16)> = vec![
            ("admin's on the API", &admins, &ts[PROJECTS], 401),
            ("admin's creating an API token", &admins, &ts[NEW_TOKEN], 401),
            ("admin's deleting the project", &admins, &ts[DELETE_PROJECT], 401),
            ("nobody's on a blob", &genuine, &ts[BLOB], 403),
            ("nobody's starting an upload", &genuine, &ts[UPLOAD], 403),
            ("pull-only starting an upload", &pull_only, &ts[UPLOAD], 401),
            ("pull-only deleting a manifest", &pull_only, &ts[DELETE_MANIFEST], 401),
        ];
        for (k, (name, token, t, status)) in checks.into_iter().enumerate() {
            let r = send(&f.server, from(100, k), t, &[bearer(token)]).await;
            let c = (r.headers.get("www-authenticate")).map_or("", |v| v.to_str().unwrap_or(""));
            let scope_error = status == 401 && !t.kube() && !c.contains("insufficient_scope");
            let res = refusal(&r, status, t, &f.host).and(match scope_error {
                true => Err(format!("challenge {c:?} is not insufficient_scope")),
                false => Ok(()),
            });
            if let Err(e) = res {
                wrong.push(format!("{db:?} {name} registry token: {e}"));
            }
        }
        let r = send(&f.server, from(101, 0), &ts[BLOB], &[bearer(&admins)]).await;
        assert_eq!(r.status, 200, "the admin's registry token is genuine");
        if snapshot(&f).await != before {
            wrong.push(format!("{db:?}: something changed"));
        }
    }
    finish(wrong);
}

/// `/openshift/token` with a raw (already percent-encoded) query.
async fn token_query(f: &Fixture, ip: IpAddr, query: &str, auth: &str) -> Reply {
    let (method, body) = ("GET", b"");
    let path = format!("/openshift/token?service=berth&{query}");
    let auth = Vec::from_iter((!auth.is_empty()).then(|| auth.as_bytes().to_vec()));
    send(&f.server, ip, &Target { method, path, body }, &auth).await
}

#[tokio::test]
async fn injected_scopes_get_400_and_grants_never_exceed_roles() {
    let mut wrong = Vec::new();
    for db in databases() {
        let f = setup(db).await;
        let a = &f.admin;
        a.create_project("other").await;
        let viewer = a.user_with_token("viewer").await;
        a.bind("team", "registry-viewer", "User", "viewer").await;
        let editor = a.user_with_token("editor").await;
        a.bind("team", "registry-editor", "User", "editor").await;
        let nobody = a.user_with_token("nobody").await;
        a.create_service_account("team", "bot").await;
        a.bind("team", "system:image-puller", "ServiceAccount", "bot")
            .await;
        let (_, bot) = a.create_token("system:serviceaccount:team:bot").await;
        let before = snapshot(&f).await;
        let many = |sep: &str| {
            let scopes: Vec<String> = (0..100)
                .map(|i| format!("repository:team/a{i}:pull"))
                .collect();
            format!("scope={}", scopes.join(sep))
        };
        #[rustfmt::skip]
        let bad: Vec<(&str, String)> = vec![
            ("quote", "scope=repository:team/app%22:pull".into()),
            ("quote and comma", "scope=repository:team/app:pull%22,push".into()),
            ("comma in the name", "scope=repository:team/app,team/x:pull".into()),
            ("space in the name", "scope=repository:team/%20app:pull".into()),
            ("plus as a space", "scope=repository:team/app:pull+push".into()),
            ("newline", "scope=repository:team/app:pull%0Apush".into()),
            ("CRLF and a header", "scope=repository:team/app:pull%0D%0AX-Injected:%201".into()),
            ("NUL", "scope=repository:team/app:pull%00".into()),
            ("dot-dot", "scope=repository:../etc/passwd:pull".into()),
            ("dot-dot inside", "scope=repository:team/..%2Fother/app:pull".into()),
            ("uppercase", "scope=repository:TEAM/App:pull".into()),
            ("three parts", "scope=repository:team/app/extra:pull".into()),
            ("one part", "scope=repository:app:pull".into()),
            ("a tag in the name", "scope=repository:team/app:v1:pull".into()),
            ("unknown action", "scope=repository:team/app:pull;rm".into()),
            ("admin action", "scope=repository:team/app:admin".into()),
            ("empty action", "scope=repository:team/app:pull,,push".into()),
            ("no actions", "scope=repository:team/app:".into()),
            ("no action part", "scope=repository:team/app".into()),
            ("bad percent escape", "scope=repository:team/app:pull%zz".into()),
            ("1 KiB name", format!("scope=repository:team/{}:pull", "x".repeat(1000))),
            ("5 KiB scope", format!("scope=repository:team/{}:pull", "x".repeat(5000))),
            ("100 scope parameters", many("&scope=")),
            ("100 scopes in one", many("%20")),
        ];
        for (i, (name, query)) in bad.iter().enumerate() {
            let r = token_query(&f, from(i, 0), query, &basic("x", &viewer)).await;
            if r.status != 400 || r.body["errors"][0]["code"] != "UNSUPPORTED" {
                let (s, b) = (r.status, &r.body);
                wrong.push(format!(
                    "{db:?} scope {name}: wanted 400 UNSUPPORTED, got {s} {b}"
                ));
            }
        }
        // What each caller gets asking for everything, here and elsewhere, with a hostile
        // service: its roles, no more; its own name, whatever user name it sent.
        let ask = "scope=repository:team/app:pull,push,delete,*&scope=repository:other/app:*\
                   &scope=repository:team/new:push&service=%22evil%0D%0A";
        let (all, none) = (json!(["pull", "push", "delete"]), json!([]));
        #[rustfmt::skip]
        let callers: Vec<(&str, String, &str, Value, Value)> = vec![
            ("anonymous", String::new(), "system:anonymous", none.clone(), none.clone()),
            ("nobody", basic("x", &nobody), "nobody", none.clone(), none.clone()),
            ("viewer", basic("x", &viewer), "viewer", json!(["pull"]), none.clone()),
            ("viewer calling itself admin", basic("admin", &viewer), "viewer", json!(["pull"]), none.clone()),
            ("puller service account", basic("x", &bot), "system:serviceaccount:team:bot", json!(["pull"]), none.clone()),
            ("editor", basic("x", &editor), "editor", all, json!(["push"])),
        ];
        for (i, (name, auth, sub, app, new)) in callers.into_iter().enumerate() {
            let r = token_query(&f, from(200, i), ask, &auth).await;
            let Some(token) = r.body["token"].as_str() else {
                wrong.push(format!("{db:?} {name}: no token: {} {}", r.status, r.body));
                continue;
            };
            let p = payload(token);
            let expected = json!([
                {"type": "repository", "name": "team/app", "actions": app},
                {"type": "repository", "name": "other/app", "actions": []},
                {"type": "repository", "name": "team/new", "actions": new},
            ]);
            let aud_ok = p["aud"].as_str().is_some_and(|a| !a.contains(['\r', '\n']));
            if p["access"] != expected || p["sub"] != sub || !aud_ok {
                wrong.push(format!("{db:?} {name}: granted {p}"));
            }
            if name == "viewer" {
                let up = &f.targets[UPLOAD];
                let r = send(&f.server, from(201, 0), up, &[bearer(token)]).await;
                if let Err(e) = refusal(&r, 403, up, &f.host) {
                    wrong.push(format!("{db:?} viewer pushing with its token: {e}"));
                }
            }
        }
        if snapshot(&f).await != before {
            wrong.push(format!("{db:?}: something changed"));
        }
    }
    finish(wrong);
}

#[tokio::test]
async fn hosts_with_quotes_or_line_breaks_never_reach_the_challenge() {
    let f = setup(Db::Sqlite).await;
    let mut wrong = Vec::new();
    let long = "h".repeat(300);
    let hosts: [&[u8]; 8] = [
        b"evil\",realm=\"http://attacker",
        b"evil\\r\\nX-Injected: 1",
        b"evil%0d%0aX-Injected:%201",
        b"a b",
        b"evil.example/openshift/token?x=",
        b"caf\xc3\xa9.example",
        b"",
        long.as_bytes(),
    ];
    let paths = ["/v2/", "/v2/team/app/manifests/v1"];
    for (i, host) in hosts.into_iter().enumerate() {
        for (j, path) in paths.into_iter().enumerate() {
            for (k, auth) in [None, Some("Bearer a.b.c")].into_iter().enumerate() {
                let client = reqwest::Client::builder().local_address(from(i, j * 2 + k));
                let req = client.build().unwrap().get(f.server.url(path));
                let mut req = req.header("host", HeaderValue::from_bytes(host).unwrap());
                if let Some(a) = auth {
                    req = req.header("authorization", a);
                }
                let r = req.send().await.unwrap();
                let host = String::from_utf8_lossy(host);
                if r.status() != StatusCode::UNAUTHORIZED {
                    wrong.push(format!("Host {host:?} on {path}: {}", r.status()));
                } else if let Err(e) = challenge_ok(r.headers(), &f.host) {
                    wrong.push(format!("Host {host:?} on {path}: {e}"));
                }
            }
        }
    }
    // A plain host is the realm, as clients addressed the server: the check above would notice.
    let plain = "registry.example.com:5000";
    let r = reqwest::Client::new()
        .get(f.server.url("/v2/"))
        .header("host", plain);
    challenge_ok(r.send().await.unwrap().headers(), plain).expect("a plain Host is the realm");
    // Line breaks only go raw: refused by HTTP parsing, or not echoed.
    for request in [
        "GET /v2/ HTTP/1.1\r\nHost: evil\r\n X-Injected: 1\r\nConnection: close\r\n\r\n",
        "GET /v2/ HTTP/1.1\r\nHost: evil\rX-Injected: 1\r\nConnection: close\r\n\r\n",
        "GET /v2/ HTTP/1.1\r\nHost: a\r\nHost: evil\"\r\nConnection: close\r\n\r\n",
    ] {
        let (status, text) = raw(&f.server.addr, request.as_bytes(), Hangup::No).await;
        let text = text.to_ascii_lowercase();
        let echoed = (text.lines()).any(|l| l.starts_with("x-injected") || l.contains("evil"));
        if !matches!(status, 400 | 401) || echoed {
            wrong.push(format!("raw {request:?}: {status} {text:?}"));
        }
    }
    finish(wrong);
}

#[tokio::test]
async fn user_names_with_a_colon_fail_login_clearly() {
    let f = setup(Db::Sqlite).await;
    let before = snapshot(&f).await;
    let mut wrong = Vec::new();
    // podman login -u a:b -p <token> sends Basic a:b:<token>; with a password, a:b:<password>.
    let token_login = basic("a:b", &f.admin.token).into_bytes();
    let password_login = basic("a:b", ADMIN_PASSWORD).into_bytes();
    let ts = &f.targets;
    #[rustfmt::skip]
    let tries = [(&token_login, &ts[TOKEN]), (&token_login, &ts[BLOB]), (&token_login, &ts[PROJECTS]), (&password_login, &ts[TOKEN])];
    for (i, (auth, t)) in tries.into_iter().enumerate() {
        let r = send(&f.server, from(i, 0), t, std::slice::from_ref(auth)).await;
        let message = r
            .body
            .pointer("/errors/0/message")
            .or(r.body.pointer("/message"));
        let message = message.and_then(Value::as_str).unwrap_or("");
        if let Err(e) = refusal(&r, 401, t, &f.host) {
            wrong.push(format!("{} {}: {e}", t.method, t.path));
        } else if !message.contains("':'") {
            wrong.push(format!("{} {}: {message:?} lacks ':'", t.method, t.path));
        }
    }
    for name in ["a:b", "system:serviceaccount:team:x", "system:admin"] {
        let user = json!({"metadata": {"name": name}, "password": "x"});
        let r = f.admin.post("/apis/user.openshift.io/v1/users", user).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        let clear = body["message"].as_str().unwrap_or("").contains("':'");
        if status != StatusCode::UNPROCESSABLE_ENTITY || body["reason"] != "Invalid" || !clear {
            wrong.push(format!("creating user {name:?}: {status} {body}"));
        }
    }
    assert_eq!(snapshot(&f).await, before, "something changed");
    finish(wrong);
}

#[tokio::test]
async fn guessing_passwords_is_slowed_then_refused_for_that_client_only() {
    let f = setup(Db::Sqlite).await;
    let ts = &f.targets;
    let (guesser, other) = (from(250, 0), from(251, 0));
    let guess = |i: usize| vec![basic("admin", &format!("guess-{i}")).into_bytes()];
    let mut took = Vec::new();
    let mut refused_at = None;
    for i in 0..16 {
        let r = send(&f.server, guesser, &ts[TOKEN], &guess(i)).await;
        match r.status {
            401 => took.push(r.took),
            429 => {
                refusal(&r, 429, &ts[TOKEN], &f.host).unwrap();
                refused_at = Some(i);
                break;
            }
            s => panic!("guess {i}: {s} {}", r.body),
        }
    }
    // Documented: five free, then doubling delays up to 1.6 s, refused after twelve.
    assert_eq!(refused_at, Some(12), "answers took {took:?}");
    let free = took[..5].iter().max().copied().unwrap();
    let slowed = took[11] >= Duration::from_millis(1200) && took[11] > free * 4;
    assert!(slowed, "not slowed down: {took:?}");
    // Refused even with the right password, on the API too, with Retry-After.
    let right = vec![basic("admin", ADMIN_PASSWORD).into_bytes()];
    for t in [&ts[TOKEN], &ts[PROJECTS]] {
        let r = send(&f.server, guesser, t, &right).await;
        refusal(&r, 429, t, &f.host).unwrap_or_else(|e| panic!("{}: {e}", t.path));
        let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=300).contains(&wait), "Retry-After {wait}");
    }
    // Tokens are not guessable and not throttled; other clients are not slowed.
    let token = [basic("x", &f.admin.token).into_bytes()];
    let r = send(&f.server, guesser, &ts[TOKEN], &token).await;
    assert_eq!(r.status, 200, "token login from the guesser: {}", r.body);
    let r = send(&f.server, other, &ts[TOKEN], &guess(99)).await;
    let prompt = r.took < free + Duration::from_millis(500);
    assert!(
        r.status == 401 && prompt,
        "other: {} {:?}",
        r.status,
        r.took
    );
    assert_eq!(send(&f.server, other, &ts[TOKEN], &right).await.status, 200);
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_gets_no_more_checks_than_the_lockout_allows() {
    let f = setup(Db::Sqlite).await;
    let (ip, server, t) = (from(252, 0), &f.server, &f.targets[TOKEN]);
    let guesses = (0..30).map(|i| {
        let auth = vec![basic("admin", &format!("burst-{i}")).into_bytes()];
        async move { send(server, ip, t, &auth).await.status }
    });
    let statuses = futures::future::join_all(guesses).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        checked <= 12,
        "{checked} of 30 concurrent password guesses from one client were checked, though \
         password logins are refused after twelve failures: {statuses:?}"
    );
}

/// Checks that `token` (when given) no longer works as an API token — Bearer on `/apis`, Basic
/// on `/v2/` and the token endpoint — and that `registry`, a registry token obtained with it
/// before, no longer works on `/v2/`; answers what was wrong.
async fn refused_everywhere(
    f: &Fixture,
    name: &str,
    token: Option<&str>,
    registry: &str,
) -> Vec<String> {
    let ts = &f.targets;
    let mut tries = vec![
        (&ts[BLOB], bearer(registry)),
        (&ts[UPLOAD], bearer(registry)),
        (&ts[DELETE_MANIFEST], bearer(registry)),
    ];
    if let Some(t) = token {
        let b = basic("x", t).into_bytes();
        tries.extend([(&ts[PROJECTS], bearer(t)), (&ts[NEW_TOKEN], bearer(t))]);
        tries.extend([(&ts[BLOB], b.clone()), (&ts[TOKEN], b)]);
    }
    let mut wrong = Vec::new();
    for (j, (t, auth)) in tries.into_iter().enumerate() {
        let r = send(&f.server, from(240, j), t, &[auth]).await;
        if let Err(e) = refusal(&r, 401, t, &f.host) {
            let db = f.server.db;
            wrong.push(format!("{db:?} {name}: {} {}: {e}", t.method, t.path));
        }
    }
    wrong
}

#[tokio::test]
async fn revoked_expired_and_orphaned_tokens_stop_at_once_with_their_registry_tokens() {
    let mut wrong = Vec::new();
    for db in databases() {
        let f = setup(db).await;
        let (a, scope) = (&f.admin, "repository:team/app:pull");
        for user in ["rev", "temp", "pw"] {
            a.create_user(user, Some(&format!("{user}-password"))).await;
            a.bind("team", "registry-viewer", "User", user).await;
        }
        a.create_service_account("team", "bot").await;
        a.bind("team", "system:image-puller", "ServiceAccount", "bot")
            .await;
        // A service account of another project, bound in team.
        a.create_project("doomed").await;
        a.create_service_account("doomed", "bot2").await;
        let subject = json!({"kind": "ServiceAccount", "name": "bot2", "namespace": "doomed"});
        let binding = json!({"roleRef": {"name": "system:image-puller"}, "subjects": [subject]});
        let path = "/apis/authorization.openshift.io/v1/namespaces/team/rolebindings";
        assert_eq!(a.post(path, binding).await.status(), StatusCode::CREATED);
        let short = json!({"expiresIn": 1});
        let r = a
            .post("/apis/oauth.openshift.io/v1/oauthaccesstokens", short)
            .await;
        let started = Instant::now();
        let short = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let short_reg = registry_token(&f, "x", &short, scope).await;
        let (rev_id, rev) = a.create_token("rev").await;
        let (_, temp) = a.create_token("temp").await;
        let (_, bot) = a.create_token("system:serviceaccount:team:bot").await;
        let (_, bot2) = a.create_token("system:serviceaccount:doomed:bot2").await;
        let mut creds: Vec<(&str, Option<&str>, String)> = Vec::new();
        #[rustfmt::skip]
        let api_tokens = [("revoked", &rev), ("deleted user", &temp), ("deleted service account", &bot), ("deleted project's service account", &bot2)];
        for (name, token) in api_tokens {
            let reg = registry_token(&f, "x", token, scope).await;
            creds.push((name, Some(token.as_str()), reg));
        }
        let pw_reg = registry_token(&f, "pw", "pw-password", scope).await;
        creds.push(("deleted user's password login", None, pw_reg));
        for (name, _, reg) in &creds {
            let r = send(&f.server, from(239, 0), &f.targets[BLOB], &[bearer(reg)]).await;
            assert_eq!(r.status, 200, "{db:?} {name} before");
        }
        let before = snapshot(&f).await["tags"].clone();
        for path in [
            format!("/apis/oauth.openshift.io/v1/oauthaccesstokens/{rev_id}"),
            "/apis/user.openshift.io/v1/users/temp".into(),
            "/apis/user.openshift.io/v1/users/pw".into(),
            "/api/v1/namespaces/team/serviceaccounts/bot".into(),
            "/apis/project.openshift.io/v1/projects/doomed".into(),
        ] {
            let status = a.delete(&path).await.status();
            assert_eq!(status, StatusCode::OK, "{db:?} DELETE {path}");
        }
        for (name, token, reg) in &creds {
            wrong.extend(refused_everywhere(&f, name, *token, reg).await);
        }
        // A user deleted and made again under the same name does not inherit the old tokens.
        for user in ["temp", "pw"] {
            a.create_user(user, Some(&format!("{user}-password"))).await;
            a.bind("team", "registry-viewer", "User", user).await;
        }
        for (name, token, reg) in creds.iter().filter(|c| c.0.contains("user")) {
            let name = format!("{name}, made again");
            wrong.extend(refused_everywhere(&f, &name, *token, reg).await);
        }
        tokio::time::sleep(Duration::from_millis(2100).saturating_sub(started.elapsed())).await;
        wrong.extend(refused_everywhere(&f, "expired", Some(&short), &short_reg).await);
        if snapshot(&f).await["tags"] != before {
            wrong.push(format!("{db:?}: tags changed"));
        }
    }
    finish(wrong);
}
