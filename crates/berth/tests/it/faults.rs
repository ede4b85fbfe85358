//! Back-pressure when a backend fails: with the object store or the database unreachable, the
//! registry answers 503 with the OCI envelope and `Retry-After` (never a partial blob or
//! manifest), `/readyz` says not ready, and everything works again by itself when the backend
//! comes back. The backends are reached through a proxy the test takes down.

use crate::support::proxy::FaultProxy;
use crate::support::registry::{bytes, sha256, Image, Registry};
use crate::support::{fresh_postgres_database, TestServer};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

async fn assert_unavailable(r: reqwest::Response, what: &str) {
    let status = r.status();
    let retry_after = r.headers().contains_key("retry-after");
    let text = r.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {text}");
    assert!(retry_after, "{what}: no Retry-After");
    let body: serde_json::Value = serde_json::from_str(&text).expect("OCI envelope");
    assert!(body["errors"][0]["code"].is_string(), "{what}: {body}");
}

async fn wait_ready(reg: &Registry, want: StatusCode) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = reg.get("/readyz").await.status();
        if status == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz stayed {status}, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// The proxy runs on the runtime's other worker while the test thread waits for the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backends_down_give_503_and_the_registry_recovers_by_itself() {
    let (Ok(s3), Ok(_)) = (
        std::env::var("BERTH_TEST_S3_ENDPOINT"),
        std::env::var("BERTH_TEST_POSTGRES_URL"),
    ) else {
        eprintln!("SKIPPED (faults): BERTH_TEST_S3_ENDPOINT and BERTH_TEST_POSTGRES_URL are needed; .ci/run sets them");
        return;
    };
    let s3_proxy = FaultProxy::start(s3.trim_start_matches("http://")).await;
    let database = fresh_postgres_database();
    let (head, tail) = database
        .split_once('@')
        .expect("user@host in the database URL");
    let (pg_host, db_name) = tail.split_once('/').expect("host/db");
    let pg_proxy = FaultProxy::start(pg_host).await;
    let proxied_db = format!("{head}@{}/{db_name}", pg_proxy.addr);
    let bucket = format!("faults{}", std::process::id());
    let server = TestServer::start_custom(
        &proxied_db,
        &format!(
            "storage: {{s3: {{bucket: {bucket}, region: us-east-1, regionEndpoint: 'http://{}'}}}}\n",
            s3_proxy.addr
        ),
    );
    let reg = Registry::new(&server.base);
    let image = Image::generated(21, 1);
    reg.push_image("faults/app", "v1", &image).await;
    let layer = sha256(&image.layers[0]);
    wait_ready(&reg, StatusCode::OK).await;

    // The object store goes away: blob reads and writes are 503, nothing half-written appears.
    s3_proxy.down();
    assert_unavailable(
        reg.get(&format!("/v2/faults/app/blobs/{layer}")).await,
        "blob GET",
    )
    .await;
    let data = bytes(5, 100_000);
    let r = reg
        .http
        .post(reg.url(&format!(
            "/v2/faults/app/blobs/uploads/?digest={}",
            sha256(&data)
        )))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_unavailable(r, "blob push").await;
    wait_ready(&reg, StatusCode::SERVICE_UNAVAILABLE).await;
    s3_proxy.up();
    wait_ready(&reg, StatusCode::OK).await;
    assert_eq!(
        reg.head(&format!("/v2/faults/app/blobs/{}", sha256(&data)))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    reg.push_blob("faults/app", &data).await;
    let r = reg.get(&format!("/v2/faults/app/blobs/{layer}")).await;
    assert_eq!(r.bytes().await.unwrap(), image.layers[0]);

    // The database goes away: manifest reads and tag lists are 503; it comes back by itself.
    pg_proxy.down();
    assert_unavailable(reg.get("/v2/faults/app/manifests/v1").await, "manifest GET").await;
    assert_unavailable(reg.get("/v2/faults/app/tags/list").await, "tag list").await;
    let other = Image::generated(22, 1);
    let r = reg
        .put_manifest_raw(
            "faults/app",
            "v2",
            crate::support::registry::OCI_MANIFEST,
            &other.manifest,
        )
        .await;
    assert_unavailable(r, "manifest PUT").await;
    wait_ready(&reg, StatusCode::SERVICE_UNAVAILABLE).await;
    pg_proxy.up();
    wait_ready(&reg, StatusCode::OK).await;
    assert_eq!(reg.tags("faults/app").await, ["v1"]);
    let r = reg.get("/v2/faults/app/manifests/v1").await;
    assert_eq!(r.bytes().await.unwrap(), image.manifest);
}
