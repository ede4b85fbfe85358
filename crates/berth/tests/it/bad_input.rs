//! Hostile and malformed input (SPEC §2, §9 invariants 4–6): every bad request gets a clear
//! error in the OCI envelope `{"errors":[{"code","message","detail"}]}` with the right status,
//! and changes nothing. Before and after each request the test compares the catalog, the tag
//! lists of the repositories involved, what the pushed manifests and blobs serve (byte for byte),
//! and every file under the storage directory (`support::baseline`).
//!
//! Each test collects every wrong answer and fails once at the end with the whole list, so one
//! run shows all of them. Upload sessions are in `bad_input_uploads.rs`.

// Test tables are tuples read in place, and a request is built once and sent once.
#![allow(clippy::type_complexity, clippy::large_enum_variant)]

#[path = "bad_input_uploads.rs"]
mod uploads;

use crate::support::baseline::{raw, Hangup, Watch};
use crate::support::registry::{
    bytes, sha256, Image, Registry, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST,
};
use crate::support::{databases, Db, TestServer};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::Duration;

pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub(crate) const SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub(crate) const MD5_EMPTY: &str = "md5:d41d8cd98f00b204e9800998ecf8427e";
/// Any error code, as long as the envelope is there.
pub(crate) const ANY: &[&str] = &["*"];

pub(crate) fn sha512(data: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha512:{}", hex::encode(sha2::Sha512::digest(data)))
}

/// What came back: status (0 when the connection ended without an answer), headers with
/// lowercase names, body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Outcome {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn parse_raw(text: &str) -> Outcome {
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Outcome {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }
}

/// How a request is sent.
pub(crate) enum Send {
    Http(RequestBuilder),
    /// Raw bytes over a fresh connection, ended as the `Hangup` says.
    Raw(Vec<u8>, Hangup),
}

/// A raw HTTP/1.1 request with `Host`, `Connection: close` and a `Content-Length` matching
/// `body` unless `headers` sets one.
pub(crate) fn raw_request(
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Checks the OCI error envelope of `outcome`: JSON, `errors` a non-empty array whose entries
/// have a string `code`, a string `message` and a `detail` key, the first code one of `codes`.
pub(crate) fn envelope_problems(outcome: &Outcome, codes: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let ct = outcome.header("content-type").unwrap_or("");
    if !ct.starts_with("application/json") {
        out.push(format!("Content-Type is {ct:?}, not application/json"));
    }
    let body: Value = match serde_json::from_slice(&outcome.body) {
        Ok(v) => v,
        Err(_) => {
            out.push(format!(
                "body is not JSON: {:?}",
                String::from_utf8_lossy(&outcome.body[..outcome.body.len().min(300)])
            ));
            return out;
        }
    };
    let Some(errors) = body["errors"].as_array().filter(|e| !e.is_empty()) else {
        out.push(format!("no errors array in {body}"));
        return out;
    };
    for e in errors {
        if !e["code"].is_string() || !e["message"].is_string() || e.get("detail").is_none() {
            out.push(format!(
                "error entry {e} lacks a string code, a string message or a detail"
            ));
        }
    }
    let code = errors[0]["code"].as_str().unwrap_or("");
    if codes != ANY && !codes.contains(&code) {
        out.push(format!(
            "code {code} (message {}), expected one of {codes:?}",
            errors[0]["message"]
        ));
    }
    out
}

/// A server holding `good/app:v1` (an image of two layers), `other/secret:s1` (an image whose
/// blobs are only there) and a blob only in `other/secret`; the watch covers them all, the blobs
/// and manifests that must stay invisible in `good/app`, and repositories that must not appear.
pub(crate) struct Fixture {
    pub db: Db,
    pub server: TestServer,
    pub reg: Registry,
    pub image: Image,
    pub other: Image,
    pub secret: String,
    /// A valid manifest for `good/app` (its blobs are there) that was never pushed.
    pub fresh: Vec<u8>,
    pub watch: Watch,
    failures: Mutex<Vec<String>>,
}

impl Fixture {
    pub async fn new(db: Db) -> Fixture {
        let server = TestServer::start_with(db, &[]);
        let reg = Registry::new(&server.base);
        let image = Image::generated(1, 2);
        reg.push_image("good/app", "v1", &image).await;
        let other = Image::generated(2, 1);
        reg.push_image("other/secret", "s1", &other).await;
        let secret = reg.push_blob("other/secret", &bytes(99, 2048)).await;
        let fresh = image_manifest(
            &image,
            image
                .layers
                .iter()
                .map(|l| layer_desc(&sha256(l), l.len() as i64))
                .collect(),
            Some(json!({"fresh": "yes"})),
        );
        let mut paths = vec![
            "/v2/good/app/manifests/v1".to_string(),
            format!("/v2/good/app/manifests/{}", image.digest),
            format!("/v2/good/app/manifests/{}", sha256(&fresh)),
            "/v2/other/secret/manifests/s1".to_string(),
            format!("/v2/other/secret/manifests/{}", other.digest),
            format!("/v2/other/secret/blobs/{secret}"),
            // Must stay unknown in good/app (invariant 4).
            format!("/v2/good/app/blobs/{secret}"),
            format!("/v2/good/app/blobs/{}", sha256(&other.config)),
            format!("/v2/good/app/manifests/{}", other.digest),
            format!("/v2/good/app/referrers/{}", image.digest),
            format!("/v2/evil/x/blobs/{secret}"),
        ];
        for blob in image.blobs() {
            paths.push(format!("/v2/good/app/blobs/{}", sha256(blob)));
        }
        for blob in other.blobs() {
            paths.push(format!("/v2/other/secret/blobs/{}", sha256(blob)));
        }
        let watch = Watch::new(&["good/app", "other/secret", "fresh/repo", "evil/x"], paths);
        Fixture {
            db,
            server,
            reg,
            image,
            other,
            secret,
            fresh,
            watch,
            failures: Mutex::new(Vec::new()),
        }
    }

    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.reg.http.request(method, self.reg.url(path))
    }

    pub fn fail(&self, what: &str, problem: impl std::fmt::Display) {
        self.failures
            .lock()
            .expect("failures")
            .push(format!("[{:?}] {what}: {problem}", self.db));
    }

    pub async fn send(&self, send: Send) -> Outcome {
        match send {
            Send::Http(rb) => match rb.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let headers = r
                        .headers()
                        .iter()
                        .map(|(n, v)| {
                            (
                                n.as_str().to_string(),
                                v.to_str().unwrap_or("<binary>").to_string(),
                            )
                        })
                        .collect();
                    let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                    Outcome {
                        status,
                        headers,
                        body,
                    }
                }
                Err(e) => Outcome {
                    status: 0,
                    headers: Vec::new(),
                    body: format!("request failed: {e}").into_bytes(),
                },
            },
            Send::Raw(bytes, hangup) => {
                let (_, text) = raw(&self.server.addr, &bytes, hangup).await;
                if hangup != Hangup::No {
                    // Give the server time to finish with what it was sent.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
                Outcome::parse_raw(&text)
            }
        }
    }

    /// Sends a bad request: its status must be one of `statuses`, its body the OCI envelope with
    /// one of `codes` (no body is checked when `codes` is empty: HEAD, or no answer expected), and
    /// nothing may change, except that files under `may_end` may be gone.
    pub async fn refused_with(
        &self,
        what: &str,
        send: Send,
        statuses: &[u16],
        codes: &[&str],
        may_end: &[String],
    ) -> Outcome {
        let before = self.watch.take(&self.server, &self.reg).await;
        let outcome = self.send(send).await;
        if !statuses.contains(&outcome.status) {
            self.fail(
                what,
                format!(
                    "status {}, expected {statuses:?}; body {:?}",
                    outcome.status,
                    String::from_utf8_lossy(&outcome.body[..outcome.body.len().min(300)])
                ),
            );
        } else if !codes.is_empty() && outcome.status != 0 {
            for p in envelope_problems(&outcome, codes) {
                self.fail(what, p);
            }
        }
        let after = self.watch.take(&self.server, &self.reg).await;
        for d in before.differences(&after, may_end) {
            self.fail(what, format!("CHANGED: {d}"));
        }
        outcome
    }

    pub async fn refused(
        &self,
        what: &str,
        rb: RequestBuilder,
        status: u16,
        codes: &[&str],
    ) -> Outcome {
        self.refused_with(what, Send::Http(rb), &[status], codes, &[])
            .await
    }

    /// The collected failures; the server log is appended when there are any.
    pub fn finish(self) -> Vec<String> {
        let failures = self.failures.into_inner().expect("failures");
        if !failures.is_empty() {
            eprintln!("---- berth log ({:?}) ----\n{}", self.db, self.server.log());
        }
        failures
    }
}

/// Fails the test with every collected failure.
pub(crate) fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} wrong answer(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

pub(crate) fn layer_desc(digest: &str, size: i64) -> Value {
    json!({"mediaType": OCI_LAYER, "digest": digest, "size": size})
}

fn config_desc(config: &[u8]) -> Value {
    json!({"mediaType": OCI_CONFIG, "digest": sha256(config), "size": config.len()})
}

/// An OCI image manifest with `image`'s config and the given layers.
pub(crate) fn image_manifest(
    image: &Image,
    layers: Vec<Value>,
    annotations: Option<Value>,
) -> Vec<u8> {
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_desc(&image.config),
        "layers": layers,
    });
    if let Some(a) = annotations {
        m["annotations"] = a;
    }
    serde_json::to_vec(&m).expect("json")
}

fn to_vec(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).expect("json")
}

/// Repository names that are invalid, as they appear between `/v2/` and the endpoint. They are
/// sent raw, byte for byte: an HTTP client would resolve dot segments and re-encode others.
fn bad_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "good/app/extra",
        "a/b/c",
        "good",
        "Good/app",
        "good/App",
        "GOOD/APP",
        "good//app",
        "/good/app",
        "good/app/",
        "good%2Fapp",
        "good%2fapp",
        "good/..",
        "../app",
        "good/.",
        "good/../good/app",
        "good/./app",
        "good/%2e%2e",
        "%2e%2e/app",
        "good/app%00",
        "good/app%2500",
        "good/ap%20p",
        "good/ap p",
        "g%C3%B6od/app",
        "good/app%2F..%2F..%2Fother%2Fsecret",
        "-good/app",
        "good/app-",
        "good/-app",
        "good/a..b",
        "good/a___b",
        "good/.app",
        "good/app.",
        "good/a:b",
        "good\\app",
        "good/app;x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.push(format!("{}/app", "a".repeat(64)));
    // 256 characters in all: one over the limit.
    names.push(format!("good/{}", "a".repeat(251)));
    names.push(format!("{}/{}", "a".repeat(63), "b".repeat(300)));
    names
}

#[tokio::test]
async fn bad_names_and_path_tricks_are_name_invalid_and_create_nothing() {
    let mut failures = Vec::new();
    for db in databases() {
        let f = Fixture::new(db).await;
        let layer = sha256(&f.image.layers[0]);
        let new_blob = bytes(777, 500);
        let new_digest = sha256(&new_blob);
        let manifest = f.image.manifest.clone();
        for name in bad_names() {
            let json_ct = ("Content-Type", OCI_MANIFEST.to_string());
            let octets = ("Content-Type", "application/octet-stream".to_string());
            let cases: Vec<(&str, String, Vec<(&str, String)>, Vec<u8>)> = vec![
                ("GET", format!("/v2/{name}/tags/list"), vec![], vec![]),
                ("GET", format!("/v2/{name}/manifests/v1"), vec![], vec![]),
                ("HEAD", format!("/v2/{name}/manifests/v1"), vec![], vec![]),
                (
                    "PUT",
                    format!("/v2/{name}/manifests/v1"),
                    vec![json_ct.clone()],
                    manifest.clone(),
                ),
                (
                    "PUT",
                    format!("/v2/{name}/manifests/{}", f.image.digest),
                    vec![json_ct],
                    manifest.clone(),
                ),
                ("DELETE", format!("/v2/{name}/manifests/v1"), vec![], vec![]),
                ("GET", format!("/v2/{name}/blobs/{layer}"), vec![], vec![]),
                ("HEAD", format!("/v2/{name}/blobs/{layer}"), vec![], vec![]),
                (
                    "DELETE",
                    format!("/v2/{name}/blobs/{layer}"),
                    vec![],
                    vec![],
                ),
                ("POST", format!("/v2/{name}/blobs/uploads/"), vec![], vec![]),
                (
                    "POST",
                    format!("/v2/{name}/blobs/uploads/?digest={new_digest}"),
                    vec![octets],
                    new_blob.clone(),
                ),
                (
                    "POST",
                    format!("/v2/{name}/blobs/uploads/?mount={layer}&from=good/app"),
                    vec![],
                    vec![],
                ),
                (
                    "GET",
                    format!("/v2/{name}/referrers/{}", f.image.digest),
                    vec![],
                    vec![],
                ),
            ];
            for (method, path, headers, body) in cases {
                let what = format!("{method} {path}");
                let codes: &[&str] = if method == "HEAD" {
                    &[]
                } else {
                    &["NAME_INVALID"]
                };
                // A request line the HTTP layer itself refuses (a raw space, a backslash) is a
                // plain 400 before Berth sees it; that is fine too, as long as nothing changes.
                let request = raw_request(method, &path, &headers, &body);
                let outcome = f
                    .refused_with(&what, Send::Raw(request, Hangup::No), &[400], &[], &[])
                    .await;
                if outcome.status == 400 && !codes.is_empty() && !outcome.body.is_empty() {
                    for p in envelope_problems(&outcome, codes) {
                        f.fail(&what, p);
                    }
                } else if outcome.status == 400
                    && !codes.is_empty()
                    && !(name.contains(' ') || name.contains('\\'))
                {
                    f.fail(&what, "400 without the OCI error envelope");
                }
            }
        }
        // A raw NUL byte in the path: the HTTP layer refuses it; nothing may change.
        let request =
            b"GET /v2/good/app\0/tags/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .to_vec();
        f.refused_with(
            "GET with a NUL byte in the path",
            Send::Raw(request, Hangup::No),
            &[400],
            &[],
            &[],
        )
        .await;
        failures.extend(f.finish());
    }
    assert_none(failures);
}

#[tokio::test]
async fn bad_manifests_are_refused_and_change_nothing() {
    let mut failures = Vec::new();
    for db in databases() {
        let f = Fixture::new(db).await;
        let image = &f.image;
        let layers: Vec<Value> = image
            .layers
            .iter()
            .map(|l| layer_desc(&sha256(l), l.len() as i64))
            .collect();
        let with_layer = |d: Value| image_manifest(image, vec![d], None);
        let valid = image_manifest(image, layers.clone(), None);
        let mut trailing = valid.clone();
        trailing.extend_from_slice(b" xyz");
        let mut nested =
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","x":"#
                .to_vec();
        nested.extend(std::iter::repeat_n(b'[', 200_000));
        nested.extend(std::iter::repeat_n(b']', 200_000));
        nested.push(b'}');
        let mut config = json!({"mediaType": OCI_CONFIG, "digest": sha256(&image.config), "size": image.config.len()});
        let mut negative_config = config.clone();
        negative_config["size"] = json!(-1);
        let upper = sha256(&image.layers[0])
            .to_uppercase()
            .replacen("SHA256", "sha256", 1);
        let schema1 = to_vec(json!({
            "schemaVersion": 1, "name": "good/app", "tag": "v2", "architecture": "amd64",
            "fsLayers": [{"blobSum": sha256(&image.layers[0])}],
            "history": [{"v1Compatibility": "{\"id\":\"x\"}"}],
            "signatures": [{"header": {"alg": "ES256"}, "signature": "abc", "protected": "def"}],
        }));
        let mut schema1_typed: Value = serde_json::from_slice(&schema1).expect("json");
        schema1_typed["mediaType"] = json!(SCHEMA1_SIGNED);
        let schema1_typed = to_vec(schema1_typed);
        let index = |children: Vec<Value>| {
            to_vec(json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}))
        };
        let child = |digest: &str, size: usize| json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": size});
        let oversized_spaces = vec![b' '; 4 * 1024 * 1024 + 1];
        let oversized_json = {
            let pad = 4 * 1024 * 1024 + 1
                - image_manifest(image, layers.clone(), Some(json!({"pad": ""}))).len();
            let m = image_manifest(image, layers.clone(), Some(json!({"pad": "p".repeat(pad)})));
            assert_eq!(m.len(), 4 * 1024 * 1024 + 1);
            m
        };
        config["size"] = json!("12");
        let string_size = to_vec(
            json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": []}),
        );

        const MI: &[&str] = &["MANIFEST_INVALID"];
        const MI_OR_DIGEST: &[&str] = &["MANIFEST_INVALID", "DIGEST_INVALID"];
        const MBU: &[&str] = &["MANIFEST_BLOB_UNKNOWN"];
        const REFUSED_TYPE: &[&str] = &["MANIFEST_INVALID", "UNSUPPORTED"];
        let fresh_digest = sha256(&f.fresh);
        // (what, reference, content type, body, status, codes)
        let cases: Vec<(&str, String, &str, Vec<u8>, u16, &[&str])> = vec![
            (
                "invalid JSON",
                "v1".into(),
                OCI_MANIFEST,
                b"{not json".to_vec(),
                400,
                MI,
            ),
            ("empty body", "v1".into(), OCI_MANIFEST, vec![], 400, MI),
            (
                "JSON null",
                "v2".into(),
                OCI_MANIFEST,
                b"null".to_vec(),
                400,
                MI,
            ),
            (
                "JSON array",
                "v2".into(),
                OCI_MANIFEST,
                b"[]".to_vec(),
                400,
                MI,
            ),
            (
                "JSON string",
                "v2".into(),
                OCI_MANIFEST,
                b"\"manifest\"".to_vec(),
                400,
                MI,
            ),
            (
                "JSON number",
                "v2".into(),
                OCI_MANIFEST,
                b"42".to_vec(),
                400,
                MI,
            ),
            (
                "valid manifest then garbage",
                "v1".into(),
                OCI_MANIFEST,
                trailing,
                400,
                MI,
            ),
            (
                "not UTF-8",
                "v2".into(),
                OCI_MANIFEST,
                b"{\"schemaVersion\":2,\"mediaType\":\"\xff\xfe\"}".to_vec(),
                400,
                MI,
            ),
            (
                "200,000 nested arrays",
                "v2".into(),
                OCI_MANIFEST,
                nested,
                400,
                MI,
            ),
            (
                "not JSON at all (a tarball)",
                "v2".into(),
                OCI_MANIFEST,
                bytes(5, 3000),
                400,
                MI,
            ),
            (
                "empty object",
                "v2".into(),
                OCI_MANIFEST,
                b"{}".to_vec(),
                400,
                MI,
            ),
            (
                "empty object, no manifest Content-Type",
                "v2".into(),
                "application/octet-stream",
                b"{}".to_vec(),
                400,
                MI,
            ),
            (
                "schemaVersion 1 with the OCI media type",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"schemaVersion": 1, "mediaType": OCI_MANIFEST, "config": config_desc(&image.config), "layers": []}),
                ),
                400,
                MI,
            ),
            (
                "schemaVersion as a string",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"schemaVersion": "2", "mediaType": OCI_MANIFEST, "config": config_desc(&image.config), "layers": []}),
                ),
                400,
                MI,
            ),
            (
                "no schemaVersion",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"mediaType": OCI_MANIFEST, "config": config_desc(&image.config), "layers": []}),
                ),
                400,
                MI,
            ),
            (
                "image manifest without config",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": layers.clone()}),
                ),
                400,
                MI,
            ),
            (
                "image manifest listing manifests",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc(&image.config), "layers": [], "manifests": [child(&image.digest, image.manifest.len())]}),
                ),
                400,
                MI,
            ),
            (
                "index with a config and layers",
                "v2".into(),
                OCI_INDEX,
                to_vec(
                    json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "config": config_desc(&image.config), "layers": layers.clone(), "manifests": []}),
                ),
                400,
                MI,
            ),
            (
                "layers not an array",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc(&image.config), "layers": {}}),
                ),
                400,
                MI,
            ),
            (
                "negative layer size",
                "v1".into(),
                OCI_MANIFEST,
                with_layer(layer_desc(&sha256(&image.layers[0]), -1)),
                400,
                MI,
            ),
            (
                "negative config size",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": negative_config, "layers": []}),
                ),
                400,
                MI,
            ),
            (
                "negative child size in an index",
                "v2".into(),
                OCI_INDEX,
                index(vec![child(&image.digest, 0)])
                    .to_vec()
                    .replace_size(-5),
                400,
                MI,
            ),
            (
                "size as a string",
                "v2".into(),
                OCI_MANIFEST,
                string_size,
                400,
                MI,
            ),
            (
                "fractional size",
                "v2".into(),
                OCI_MANIFEST,
                with_layer(
                    json!({"mediaType": OCI_LAYER, "digest": sha256(&image.layers[0]), "size": 1.5}),
                ),
                400,
                MI,
            ),
            (
                "size beyond 64 bits",
                "v2".into(),
                OCI_MANIFEST,
                String::from_utf8(with_layer(layer_desc(&sha256(&image.layers[0]), 7)))
                    .expect("utf8")
                    .replace("\"size\":7", "\"size\":18446744073709551616")
                    .into_bytes(),
                400,
                MI,
            ),
            (
                "layer digest sha256:zz",
                "v2".into(),
                OCI_MANIFEST,
                with_layer(layer_desc("sha256:zz", 10)),
                400,
                MI_OR_DIGEST,
            ),
            (
                "layer digest md5",
                "v2".into(),
                OCI_MANIFEST,
                with_layer(layer_desc(MD5_EMPTY, 0)),
                400,
                MI_OR_DIGEST,
            ),
            (
                "layer digest in uppercase hex",
                "v2".into(),
                OCI_MANIFEST,
                with_layer(layer_desc(&upper, image.layers[0].len() as i64)),
                400,
                MI_OR_DIGEST,
            ),
            (
                "layer digest with a path",
                "v2".into(),
                OCI_MANIFEST,
                with_layer(layer_desc("sha256:../../../etc/passwd", 10)),
                400,
                MI_OR_DIGEST,
            ),
            (
                "layer without digest",
                "v2".into(),
                OCI_MANIFEST,
                with_layer(json!({"mediaType": OCI_LAYER, "size": 3})),
                400,
                MI,
            ),
            (
                "layer naming a missing blob",
                "v1".into(),
                OCI_MANIFEST,
                with_layer(layer_desc(&sha256(b"missing"), 7)),
                400,
                MBU,
            ),
            (
                "layer naming a blob of another repository",
                "v1".into(),
                OCI_MANIFEST,
                with_layer(layer_desc(&f.secret, 2048)),
                400,
                MBU,
            ),
            (
                "config naming a blob of another repository",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc(&f.other.config), "layers": layers.clone()}),
                ),
                400,
                MBU,
            ),
            (
                "valid manifest pushed to a repository holding none of its blobs",
                "fresh".into(),
                OCI_MANIFEST,
                valid.clone(),
                400,
                MBU,
            ),
            (
                "index naming a missing child manifest",
                "v2".into(),
                OCI_INDEX,
                index(vec![child(&sha256(b"no such child"), 13)]),
                400,
                MBU,
            ),
            (
                "index naming a manifest of another repository",
                "v2".into(),
                OCI_INDEX,
                index(vec![child(&f.other.digest, f.other.manifest.len())]),
                400,
                MBU,
            ),
            (
                "index naming a blob, not a manifest",
                "v2".into(),
                OCI_INDEX,
                index(vec![child(&sha256(&image.config), image.config.len())]),
                400,
                MBU,
            ),
            (
                "another repository's manifest, pushed by digest",
                f.other.digest.clone(),
                OCI_MANIFEST,
                f.other.manifest.clone(),
                400,
                MBU,
            ),
            (
                "another repository's manifest, pushed by tag",
                "v1".into(),
                OCI_MANIFEST,
                f.other.manifest.clone(),
                400,
                MBU,
            ),
            (
                "mediaType given twice (index, then manifest)",
                "v2".into(),
                OCI_MANIFEST,
                String::from_utf8(valid.clone())
                    .expect("utf8")
                    .replacen('{', &format!("{{\"mediaType\":\"{OCI_INDEX}\","), 1)
                    .into_bytes(),
                400,
                MI,
            ),
            (
                "descriptor without mediaType",
                "v2".into(),
                OCI_MANIFEST,
                with_layer(
                    json!({"digest": sha256(&image.layers[0]), "size": image.layers[0].len()}),
                ),
                400,
                MI,
            ),
            (
                "Content-Type index with parameters, body an image manifest",
                "v2".into(),
                "application/vnd.oci.image.index.v1+json; charset=utf-8",
                valid.clone(),
                400,
                MI,
            ),
            (
                "Content-Type index, body an image manifest",
                "v2".into(),
                OCI_INDEX,
                valid.clone(),
                400,
                MI,
            ),
            (
                "Content-Type Docker schema 2, body OCI",
                "v2".into(),
                DOCKER_MANIFEST,
                valid.clone(),
                400,
                MI,
            ),
            (
                "Content-Type OCI manifest, body a Docker manifest list",
                "v2".into(),
                OCI_MANIFEST,
                to_vec(
                    json!({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [child(&image.digest, image.manifest.len())]}),
                ),
                400,
                MI,
            ),
            (
                "Docker schema 1, signed",
                "v2".into(),
                SCHEMA1_SIGNED,
                schema1.clone(),
                400,
                REFUSED_TYPE,
            ),
            (
                "Docker schema 1, unsigned media type",
                "v2".into(),
                SCHEMA1,
                schema1.clone(),
                400,
                REFUSED_TYPE,
            ),
            (
                "Docker schema 1 with mediaType in the body",
                "v2".into(),
                SCHEMA1_SIGNED,
                schema1_typed,
                400,
                REFUSED_TYPE,
            ),
            (
                "Docker schema 1 without Content-Type",
                "v2".into(),
                "application/json",
                schema1,
                400,
                REFUSED_TYPE,
            ),
            (
                "unknown manifest media type",
                "v2".into(),
                "application/vnd.example.thing.manifest.v1+json",
                to_vec(
                    json!({"schemaVersion": 2, "mediaType": "application/vnd.example.thing.manifest.v1+json", "config": config_desc(&image.config), "layers": []}),
                ),
                400,
                REFUSED_TYPE,
            ),
            (
                "manifest of 4 MiB + 1 byte of spaces",
                "v1".into(),
                OCI_MANIFEST,
                oversized_spaces,
                413,
                &["MANIFEST_INVALID", "SIZE_INVALID"],
            ),
            (
                "valid manifest of 4 MiB + 1 byte",
                "v2".into(),
                OCI_MANIFEST,
                oversized_json,
                413,
                &["MANIFEST_INVALID", "SIZE_INVALID"],
            ),
            (
                "push by digest, digest of other content",
                sha256(b"other content"),
                OCI_MANIFEST,
                f.fresh.clone(),
                400,
                &["DIGEST_INVALID"],
            ),
            (
                "push by digest, the digest of another manifest",
                image.digest.clone(),
                OCI_MANIFEST,
                f.fresh.clone(),
                400,
                &["DIGEST_INVALID"],
            ),
            (
                "push by sha512 digest of other content",
                sha512(b"other content"),
                OCI_MANIFEST,
                f.fresh.clone(),
                400,
                &["DIGEST_INVALID"],
            ),
            (
                "push by digest, right digest of invalid JSON",
                sha256(b"{not json"),
                OCI_MANIFEST,
                b"{not json".to_vec(),
                400,
                MI,
            ),
            (
                "push by md5 digest",
                MD5_EMPTY.into(),
                OCI_MANIFEST,
                f.fresh.clone(),
                400,
                &["DIGEST_INVALID", "NAME_INVALID"],
            ),
            (
                "push by a short sha256 digest",
                "sha256:abc".into(),
                OCI_MANIFEST,
                f.fresh.clone(),
                400,
                &["DIGEST_INVALID", "NAME_INVALID"],
            ),
            (
                "push by the right digest in uppercase hex",
                fresh_digest.to_uppercase().replacen("SHA256", "sha256", 1),
                OCI_MANIFEST,
                f.fresh.clone(),
                400,
                &["DIGEST_INVALID", "NAME_INVALID"],
            ),
            (
                "push by digest with an empty algorithm",
                format!(":{}", &fresh_digest[7..]),
                OCI_MANIFEST,
                f.fresh.clone(),
                400,
                &["DIGEST_INVALID", "NAME_INVALID"],
            ),
        ];
        for (what, reference, ct, body, status, codes) in cases {
            let repo = if reference == "fresh" {
                "fresh/repo"
            } else {
                "good/app"
            };
            let reference = if reference == "fresh" {
                "v1".to_string()
            } else {
                reference
            };
            let rb = f
                .req(Method::PUT, &format!("/v2/{repo}/manifests/{reference}"))
                .header("content-type", ct)
                .body(body);
            f.refused(&format!("PUT manifest: {what}"), rb, status, codes)
                .await;
        }

        // Far over the limit, announced by Content-Length: refused at once, with the envelope.
        let request = raw_request(
            "PUT",
            "/v2/good/app/manifests/v1",
            &[
                ("Content-Type", OCI_MANIFEST.to_string()),
                ("Content-Length", (100u64 << 20).to_string()),
            ],
            &vec![b' '; 64 * 1024],
        );
        f.refused_with(
            "PUT manifest announcing 100 MiB",
            Send::Raw(request, Hangup::No),
            &[413],
            &["MANIFEST_INVALID", "SIZE_INVALID"],
            &[],
        )
        .await;
        // Over the limit without Content-Length (chunked transfer encoding).
        let mut request = format!(
            "PUT /v2/good/app/manifests/v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {OCI_MANIFEST}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..6 {
            request.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
            request.extend(&chunk);
            request.extend(b"\r\n");
        }
        request.extend(b"0\r\n\r\n");
        f.refused_with(
            "PUT manifest of 6 MiB in chunked encoding",
            Send::Raw(request, Hangup::No),
            &[413],
            &["MANIFEST_INVALID", "SIZE_INVALID"],
            &[],
        )
        .await;

        // Bad tags, in the path and in `?tag=` (one bad tag refuses the whole push).
        let long = "t".repeat(129);
        for tag in [
            "-bad",
            ".bad",
            "bad!tag",
            "bad%20tag",
            "bad%2Ftag",
            "b%C3%A4d",
            long.as_str(),
            "bad%00",
        ] {
            let rb = f
                .req(Method::PUT, &format!("/v2/good/app/manifests/{tag}"))
                .header("content-type", OCI_MANIFEST)
                .body(f.fresh.clone());
            f.refused(
                &format!("PUT manifest with tag {tag:?}"),
                rb,
                400,
                &["NAME_INVALID", "TAG_INVALID", "MANIFEST_INVALID"],
            )
            .await;
        }
        for query in [
            "tag=-bad".to_string(),
            "tag=".to_string(),
            "tag=a%2Fb".to_string(),
            "tag=a%00".to_string(),
            "tag=a%20b".to_string(),
            format!("tag={long}"),
            "tag=ok&tag=b%40d".to_string(),
            "tag=b%40d&tag=ok".to_string(),
        ] {
            let rb = f
                .req(
                    Method::PUT,
                    &format!("/v2/good/app/manifests/{fresh_digest}?{query}"),
                )
                .header("content-type", OCI_MANIFEST)
                .body(f.fresh.clone());
            f.refused(
                &format!("PUT manifest by digest ?{query}"),
                rb,
                400,
                &["NAME_INVALID", "TAG_INVALID", "MANIFEST_INVALID"],
            )
            .await;
        }

        // A manifest body cut off mid-request: no manifest, no tag.
        for hangup in [Hangup::Drop, Hangup::HalfClose] {
            let request = raw_request(
                "PUT",
                "/v2/good/app/manifests/cut",
                &[
                    ("Content-Type", OCI_MANIFEST.to_string()),
                    ("Content-Length", (f.fresh.len() + 500).to_string()),
                ],
                &f.fresh,
            );
            f.refused_with(
                &format!("PUT manifest cut off ({hangup:?})"),
                Send::Raw(request, hangup),
                &[0, 400],
                &[],
                &[],
            )
            .await;
        }
        failures.extend(f.finish());
    }
    assert_none(failures);
}

trait ReplaceSize {
    fn replace_size(self, size: i64) -> Vec<u8>;
}

impl ReplaceSize for Vec<u8> {
    /// Sets every `"size":0` of a JSON document to `size`.
    fn replace_size(self, size: i64) -> Vec<u8> {
        String::from_utf8(self)
            .expect("utf8")
            .replace("\"size\":0", &format!("\"size\":{size}"))
            .into_bytes()
    }
}

#[tokio::test]
async fn other_repositories_blobs_and_manifests_stay_unknown() {
    let mut failures = Vec::new();
    for db in databases() {
        let f = Fixture::new(db).await;
        let secret = f.secret.clone();
        let other_config = sha256(&f.other.config);
        for (method, path, status, codes) in [
            (
                Method::GET,
                format!("/v2/good/app/blobs/{secret}"),
                404,
                &["BLOB_UNKNOWN"][..],
            ),
            (
                Method::HEAD,
                format!("/v2/good/app/blobs/{secret}"),
                404,
                &[][..],
            ),
            (
                Method::DELETE,
                format!("/v2/good/app/blobs/{secret}"),
                404,
                &["BLOB_UNKNOWN"][..],
            ),
            (
                Method::GET,
                format!("/v2/good/app/blobs/{other_config}"),
                404,
                &["BLOB_UNKNOWN"][..],
            ),
            (
                Method::GET,
                format!("/v2/evil/x/blobs/{secret}"),
                404,
                &["BLOB_UNKNOWN", "NAME_UNKNOWN"][..],
            ),
            (
                Method::HEAD,
                format!("/v2/evil/x/blobs/{secret}"),
                404,
                &[][..],
            ),
            (
                Method::GET,
                format!("/v2/good/app/manifests/{}", f.other.digest),
                404,
                &["MANIFEST_UNKNOWN"][..],
            ),
            (
                Method::HEAD,
                format!("/v2/good/app/manifests/{}", f.other.digest),
                404,
                &[][..],
            ),
            (
                Method::DELETE,
                format!("/v2/good/app/manifests/{}", f.other.digest),
                404,
                &["MANIFEST_UNKNOWN"][..],
            ),
            (
                Method::GET,
                "/v2/good/app/manifests/s1".to_string(),
                404,
                &["MANIFEST_UNKNOWN"][..],
            ),
            (
                Method::DELETE,
                "/v2/good/app/manifests/s1".to_string(),
                404,
                &["MANIFEST_UNKNOWN"][..],
            ),
            (
                Method::GET,
                format!("/v2/good/app/blobs/{}", sha256(b"nowhere")),
                404,
                &["BLOB_UNKNOWN"][..],
            ),
            (
                Method::GET,
                format!("/v2/good/app/blobs/{}", sha512(&f.image.layers[0])),
                404,
                &["BLOB_UNKNOWN"][..],
            ),
            (
                Method::DELETE,
                format!("/v2/good/app/manifests/{}", sha256(b"nowhere")),
                404,
                &["MANIFEST_UNKNOWN"][..],
            ),
            (
                Method::DELETE,
                "/v2/good/app/manifests/v9".to_string(),
                404,
                &["MANIFEST_UNKNOWN"][..],
            ),
            (
                Method::GET,
                "/v2/good/app/manifests/v9".to_string(),
                404,
                &["MANIFEST_UNKNOWN"][..],
            ),
            (
                Method::GET,
                "/v2/fresh/repo/tags/list".to_string(),
                404,
                &["NAME_UNKNOWN"][..],
            ),
            (
                Method::GET,
                "/v2/fresh/repo/manifests/v1".to_string(),
                404,
                &["MANIFEST_UNKNOWN", "NAME_UNKNOWN"][..],
            ),
        ] {
            let what = format!("{method} {path}");
            f.refused(&what, f.req(method, &path), status, codes).await;
        }
        // A Range on a blob of another repository must not reveal its size (no 206, no 416).
        for range in ["bytes=0-10", "bytes=999999-", "bytes=-1"] {
            let rb = f
                .req(Method::GET, &format!("/v2/good/app/blobs/{secret}"))
                .header("range", range);
            f.refused(
                &format!("GET another repository's blob with Range {range}"),
                rb,
                404,
                &["BLOB_UNKNOWN"],
            )
            .await;
        }
        // Range past the end of a blob of this repository: 416 with `Content-Range: bytes */size`.
        let layer = &f.image.layers[0];
        let size = layer.len();
        for range in [
            format!("bytes={size}-"),
            format!("bytes={}-{}", size + 100, size + 200),
            "bytes=-0".to_string(),
        ] {
            let rb = f
                .req(
                    Method::GET,
                    &format!("/v2/good/app/blobs/{}", sha256(layer)),
                )
                .header("range", &range);
            let what = format!("GET blob with Range {range}");
            let outcome = f.refused(&what, rb, 416, ANY).await;
            let expected = format!("bytes */{size}");
            if outcome.status == 416 && outcome.header("content-range") != Some(expected.as_str()) {
                f.fail(
                    &what,
                    format!(
                        "Content-Range {:?}, expected {expected:?}",
                        outcome.header("content-range")
                    ),
                );
            }
        }
        // Bad digests on blob and referrer paths.
        let upper = sha256(layer).to_uppercase().replacen("SHA256", "sha256", 1);
        for digest in [
            MD5_EMPTY,
            "sha256:zz",
            "sha256:",
            "sha256",
            "sha256:../../etc/passwd",
            upper.as_str(),
            "SHA256:abc",
            "sha384:abc",
        ] {
            for (method, path) in [
                ("GET", format!("/v2/good/app/blobs/{digest}")),
                ("DELETE", format!("/v2/good/app/blobs/{digest}")),
                ("GET", format!("/v2/good/app/referrers/{digest}")),
                (
                    "POST",
                    format!("/v2/good/app/blobs/uploads/?mount={digest}&from=other/secret"),
                ),
            ] {
                let what = format!("{method} {path}");
                let request = raw_request(method, &path, &[], &[]);
                f.refused_with(
                    &what,
                    Send::Raw(request, Hangup::No),
                    &[400],
                    &["DIGEST_INVALID"],
                    &[],
                )
                .await;
            }
        }
        // Mounting from a repository that does not hold the blob (or from a bad name) links
        // nothing: the registry falls back to an ordinary upload session (202).
        for from in [
            "good/nothing",
            "good/app",
            "Other/secret",
            "other/secret/x",
            "..%2Fother%2Fsecret",
            "evil/x",
        ] {
            let path = format!("/v2/evil/x/blobs/uploads/?mount={secret}&from={from}");
            let what = format!("POST {path}");
            let outcome = f
                .refused_with(
                    &what,
                    Send::Http(f.req(Method::POST, &path)),
                    &[202],
                    &[],
                    &[],
                )
                .await;
            if let Some(location) = outcome.header("location") {
                f.reg.delete(location).await;
            }
        }
        failures.extend(f.finish());
    }
    assert_none(failures);
}

#[tokio::test]
async fn bad_listing_parameters_get_an_error_or_a_page_never_a_failure() {
    let mut failures = Vec::new();
    for db in databases() {
        let f = Fixture::new(db).await;
        for base in ["/v2/good/app/tags/list", "/v2/_catalog"] {
            for n in ["-1", "abc", "1.5", "99999999999999999999", "0x10", "%00"] {
                let path = format!("{base}?n={n}");
                f.refused(
                    &format!("GET {path}"),
                    f.req(Method::GET, &path),
                    400,
                    &["UNSUPPORTED", "PAGINATION_NUMBER_INVALID"],
                )
                .await;
            }
            // Huge but valid page sizes and odd `last` values answer a page (or a clear 400).
            let long = "z".repeat(10_000);
            for query in [
                "n=9223372036854775807",
                "n=4294967296",
                "last=%00",
                "last=%FF%FE",
                "n=1&last=%00",
            ] {
                let path = format!("{base}?{query}");
                let what = format!("GET {path}");
                let outcome = f
                    .refused_with(
                        &what,
                        Send::Http(f.req(Method::GET, &path)),
                        &[200, 400],
                        &[],
                        &[],
                    )
                    .await;
                if outcome.status == 400 {
                    for p in envelope_problems(&outcome, ANY) {
                        f.fail(&what, p);
                    }
                } else if outcome.status == 200 && query.starts_with("n=9") {
                    let body: Value = serde_json::from_slice(&outcome.body).unwrap_or_default();
                    let key = if base.contains("_catalog") {
                        "repositories"
                    } else {
                        "tags"
                    };
                    if body[key].as_array().map(|a| a.len())
                        != Some(if key == "tags" { 1 } else { 2 })
                    {
                        f.fail(&what, format!("page {body}"));
                    }
                }
            }
            let path = format!("{base}?last={long}");
            let outcome = f
                .refused_with(
                    &format!("GET {base}?last=<10,000 chars>"),
                    Send::Http(f.req(Method::GET, &path)),
                    &[200, 400, 414],
                    &[],
                    &[],
                )
                .await;
            if outcome.status != 200 {
                for p in envelope_problems(&outcome, ANY) {
                    f.fail("long last", p);
                }
            }
        }
        for query in ["artifactType=%00", "artifactType=%FF", "last=%00"] {
            let path = format!("/v2/good/app/referrers/{}?{query}", f.image.digest);
            let what = format!("GET {path}");
            let outcome = f
                .refused_with(
                    &what,
                    Send::Http(f.req(Method::GET, &path)),
                    &[200, 400],
                    &[],
                    &[],
                )
                .await;
            if outcome.status == 400 {
                for p in envelope_problems(&outcome, ANY) {
                    f.fail(&what, p);
                }
            }
        }
        failures.extend(f.finish());
    }
    assert_none(failures);
}

#[tokio::test]
async fn methods_an_endpoint_does_not_have_are_405_unsupported() {
    let mut failures = Vec::new();
    for db in databases() {
        let f = Fixture::new(db).await;
        let layer = sha256(&f.image.layers[0]);
        let location = f.reg.start_upload("good/app").await;
        let may_end = [];
        for (method, path) in [
            (Method::POST, "/v2/good/app/manifests/v1".to_string()),
            (Method::PATCH, "/v2/good/app/manifests/v1".to_string()),
            (Method::PUT, format!("/v2/good/app/blobs/{layer}")),
            (Method::POST, format!("/v2/good/app/blobs/{layer}")),
            (Method::PATCH, format!("/v2/good/app/blobs/{layer}")),
            (Method::PUT, "/v2/good/app/tags/list".to_string()),
            (Method::DELETE, "/v2/good/app/tags/list".to_string()),
            (Method::POST, "/v2/good/app/tags/list".to_string()),
            (Method::DELETE, "/v2/_catalog".to_string()),
            (Method::POST, "/v2/_catalog".to_string()),
            (Method::PUT, "/v2/_catalog".to_string()),
            (Method::DELETE, "/v2/".to_string()),
            (Method::POST, "/v2/".to_string()),
            (Method::GET, "/v2/good/app/blobs/uploads/".to_string()),
            (Method::PUT, "/v2/good/app/blobs/uploads/".to_string()),
            (Method::PATCH, "/v2/good/app/blobs/uploads/".to_string()),
            (Method::DELETE, "/v2/good/app/blobs/uploads/".to_string()),
            (Method::POST, location.clone()),
            (
                Method::DELETE,
                format!("/v2/good/app/referrers/{}", f.image.digest),
            ),
            (
                Method::PUT,
                format!("/v2/good/app/referrers/{}", f.image.digest),
            ),
            (
                Method::from_bytes(b"PROPFIND").expect("method"),
                "/v2/good/app/manifests/v1".to_string(),
            ),
        ] {
            let what = format!("{method} {path}");
            let rb = f
                .req(method, &path)
                .header("content-type", "application/octet-stream")
                .body(f.image.manifest.clone());
            f.refused_with(&what, Send::Http(rb), &[405], &["UNSUPPORTED"], &may_end)
                .await;
        }
        // Paths that are no endpoint at all: 404 in the envelope.
        for path in [
            "/v2/good/app/other",
            "/v2/good/app/blobs/uploads/a/b",
            "/v2/good/app/manifests",
            "/v2/good/app",
        ] {
            f.refused(&format!("GET {path}"), f.req(Method::GET, path), 404, ANY)
                .await;
        }
        failures.extend(f.finish());
    }
    assert_none(failures);
}

/// RFC 9110 §15.5.6: a 405 answer must carry `Allow` with the methods the endpoint has.
#[tokio::test]
async fn method_not_allowed_answers_list_the_allowed_methods() {
    let f = Fixture::new(Db::Sqlite).await;
    for (method, path) in [
        (Method::POST, "/v2/good/app/manifests/v1".to_string()),
        (
            Method::PUT,
            format!("/v2/good/app/blobs/{}", sha256(&f.image.config)),
        ),
        (Method::DELETE, "/v2/_catalog".to_string()),
    ] {
        let what = format!("{method} {path}");
        let outcome = f.send(Send::Http(f.req(method, &path))).await;
        if outcome.status != 405 || outcome.header("allow").is_none_or(|a| a.is_empty()) {
            f.fail(
                &what,
                format!(
                    "status {} with Allow {:?}",
                    outcome.status,
                    outcome.header("allow")
                ),
            );
        }
    }
    assert_none(f.finish());
}
