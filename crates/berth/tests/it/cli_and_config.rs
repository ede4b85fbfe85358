//! The binary itself: `version`, configuration errors that name the key, read-only mode,
//! health endpoints, and a graceful stop on SIGTERM.

use crate::support::registry::{bytes, error_code, Registry};
use crate::support::tools::try_run_in;
use crate::support::{Db, TestServer};
use reqwest::StatusCode;

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

#[test]
fn version_prints_the_package_version() {
    let out = try_run_in(BERTH, &["version"], None);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("berth {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_bad_configuration_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases = [
        ("listen: not-an-address\n", "listen"),
        ("storage: {s3: {region: eu-west-1}}\n", "storage.s3.bucket"),
        (
            "storage: {azure: {container: c}}\n",
            "storage.azure.accountName",
        ),
        (
            "storage: {s3: {bucket: b, cloudFront: {}}}\n",
            "storage.s3.cloudFront",
        ),
        (
            "storage: {maintenance: {uploadpurging: {age: soon}}}\n",
            "uploadpurging.age",
        ),
        ("storage: {filesystem: {}, emptyDir: {}}\n", "storage"),
        ("database: {url: 'mysql://x'}\n", "database.url"),
        ("readOnly: maybe\n", "readOnly"),
        ("lisen: 127.0.0.1:1\n", "lisen"),
        ("log: {format: xml}\n", "log.format"),
    ];
    for (i, (yaml, key)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.yaml"));
        std::fs::write(&path, yaml).expect("write");
        let path = path.display().to_string();
        for command in ["serve", "check-config"] {
            let out = try_run_in(BERTH, &[command, "--config", &path], None);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {yaml}: {stderr}");
            assert!(stderr.contains(key), "{command} {yaml}: {stderr}");
        }
    }
    let missing = try_run_in(
        BERTH,
        &["serve", "--config", "/nonexistent/berth.yaml"],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/berth.yaml"));
}

#[tokio::test]
async fn read_only_mode_refuses_pushes_and_deletes_but_serves_pulls() {
    let mut server = TestServer::start_with(Db::Sqlite, &[]);
    let reg = Registry::new(&server.base);
    let digest = reg.push_blob("ro/app", &bytes(1, 100)).await;
    drop(reg);
    server.restart_with(&["--read-only", "true"]);
    let reg = Registry::new(&server.base);
    let r = reg
        .http
        .post(reg.url("/v2/ro/app/blobs/uploads/"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(r).await, "UNSUPPORTED");
    let r = reg.delete(&format!("/v2/ro/app/blobs/{digest}")).await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        reg.get(&format!("/v2/ro/app/blobs/{digest}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn health_start_log_and_graceful_stop() {
    let mut server = TestServer::start();
    let reg = Registry::new(&server.base);
    assert_eq!(reg.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(reg.get("/readyz").await.status(), StatusCode::OK);
    let log = server.log();
    for field in [
        "version=",
        "instance=",
        "listen=",
        "storage=filesystem ",
        "database=\"sqlite\"",
    ] {
        assert!(log.contains(field), "start line lacks {field}: {log}");
    }
    let status = server.terminate();
    assert!(
        status.success(),
        "SIGTERM should stop berth cleanly: {status:?}\n{}",
        server.log()
    );
    assert!(server.log().contains("berth stopped"));
}

#[tokio::test]
async fn empty_dir_storage_keeps_blobs_in_memory() {
    let server = TestServer::start_with(Db::Sqlite, &["--storage", "emptyDir"]);
    let reg = Registry::new(&server.base);
    let data = bytes(11, 300_000);
    let digest = reg.push_blob_chunked("mem/app", &data, 100_000).await;
    let single = reg.push_blob("mem/app", &bytes(12, 5000)).await;
    assert_eq!(
        reg.get(&format!("/v2/mem/app/blobs/{digest}"))
            .await
            .bytes()
            .await
            .expect("body")
            .as_ref(),
        &data[..]
    );
    assert_eq!(
        reg.head(&format!("/v2/mem/app/blobs/{single}"))
            .await
            .status(),
        StatusCode::OK
    );
    let stored: Vec<_> = std::fs::read_dir(server.storage_dir())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        stored
            .iter()
            .all(|n| n.to_string_lossy().starts_with("berth.db")),
        "files on disk: {stored:?}"
    );
}

/// The first start with access control creates `admin` with a generated password, printed
/// once; the password works; a restart prints nothing of the kind and keeps it working.
#[tokio::test]
async fn first_start_bootstraps_an_administrator_once() {
    let mut server = TestServer::start_secure_generated(Db::Sqlite);
    let log = server.log();
    let marker = "Its password, shown only this once: ";
    let line = log
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no generated password in the log:\n{log}"));
    let password = line.split(marker).nth(1).unwrap().trim().to_string();
    assert!(
        password.len() >= 20,
        "a weak generated password: {password:?}"
    );
    let api = crate::support::access::Api::login(&server.base, "admin", &password).await;
    let me: serde_json::Value = api
        .get("/apis/user.openshift.io/v1/users/~")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["metadata"]["name"], "admin");
    // The password is stored only hashed.
    for entry in std::fs::read_dir(server.data_path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("berth.db")
        {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows(password.len())
                    .any(|w| w == password.as_bytes()),
                "the password is stored in clear in {path:?}"
            );
        }
    }
    server.restart();
    assert_eq!(server.log().matches(marker).count(), 1, "printed again");
    crate::support::access::Api::login(&server.base, "admin", &password).await;
    // And a wrong password is refused.
    let r = reqwest::Client::new()
        .post(server.url("/apis/oauth.openshift.io/v1/oauthaccesstokens"))
        .header(
            "authorization",
            crate::support::access::basic("admin", "wrong"),
        )
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// `--auth none` runs an open registry and says so at start; the default is access control.
#[tokio::test]
async fn auth_none_warns_and_the_default_asks_for_a_login() {
    let open = TestServer::start_with(Db::Sqlite, &[]);
    assert!(
        open.log().contains("access control is OFF"),
        "no warning:\n{}",
        open.log()
    );
    assert_eq!(
        Registry::new(&open.base).get("/v2/").await.status(),
        StatusCode::OK
    );
    let secure = TestServer::start_secure(Db::Sqlite);
    assert!(!secure.log().contains("access control is OFF"));
    assert_eq!(
        Registry::new(&secure.base).get("/v2/").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A bucket whose endpoint does not answer, or missing credentials, stop start-up with a
/// message naming the setting.
#[test]
fn an_unreachable_object_store_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let path = dir.path().join("s3.yaml");
    std::fs::write(
        &path,
        format!("storage: {{s3: {{bucket: b, regionEndpoint: 'http://127.0.0.1:{port}'}}}}\n"),
    )
    .expect("write");
    let data = dir.path().join("data").display().to_string();
    let run = |with_keys: bool| {
        let mut c = std::process::Command::new(BERTH);
        c.args(["serve", "--auth", "none", "--config"])
            .arg(&path)
            .args(["--data-dir", &data, "--listen", "127.0.0.1:0"])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("REGISTRY_STORAGE_S3_ACCESSKEY");
        if with_keys {
            c.env("REGISTRY_STORAGE_S3_ACCESSKEY", "k")
                .env("REGISTRY_STORAGE_S3_SECRETKEY", "s");
        }
        c.output().expect("run berth")
    };
    let out = run(false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("REGISTRY_STORAGE_S3_ACCESSKEY"), "{stderr}");
    let started = std::time::Instant::now();
    let out = run(true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("storage.s3.regionEndpoint"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// The configuration files shown in docs/deploy.md and the Kubernetes ConfigMap are valid.
#[test]
fn the_documented_configurations_are_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let deploy = std::fs::read_to_string(root.join("docs/deploy.md")).expect("docs/deploy.md");
    let mut configs: Vec<String> = deploy
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(|b| b.split("\n---\n").next().unwrap_or(b).to_string())
        .collect();
    let manifests =
        std::fs::read_to_string(root.join("docs/kubernetes/berth.yaml")).expect("manifests");
    let config_map: serde_yaml_ng::Value = serde_yaml_ng::Deserializer::from_str(&manifests)
        .next()
        .map(|d| serde::Deserialize::deserialize(d).expect("ConfigMap YAML"))
        .expect("a ConfigMap first");
    configs.push(
        config_map["data"]["berth.yaml"]
            .as_str()
            .expect("berth.yaml in the ConfigMap")
            .to_string(),
    );
    assert!(configs.len() >= 3, "{configs:?}");
    let dir = tempfile::tempdir().expect("tmp");
    for (i, config) in configs.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.yaml"));
        std::fs::write(&path, config).expect("write");
        let out = std::process::Command::new(BERTH)
            .args(["check-config", "--config"])
            .arg(&path)
            .env("BERTH_DATABASE_URL", "postgres://berth@db/berth")
            .output()
            .expect("check-config");
        assert!(
            out.status.success(),
            "{config}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
