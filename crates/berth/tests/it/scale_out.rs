//! Several replicas on one PostgreSQL database and one S3 bucket: any replica serves any
//! request, uploads move between replicas (also after one is killed), revocations and tags are
//! seen by all at once, and background work is done once. Needs `BERTH_TEST_POSTGRES_URL` and
//! `BERTH_TEST_S3_ENDPOINT` (set by `.ci/run`); otherwise SKIPPED.

use crate::support::access::{basic, token_response, Api};
use crate::support::registry::{bytes, error_code, sha256, Image, Registry};
use crate::support::{Db, Setup, Store, TestServer};
use reqwest::StatusCode;

fn shared_setup() -> Option<Setup> {
    let missing: Vec<&str> = ["BERTH_TEST_POSTGRES_URL", "BERTH_TEST_S3_ENDPOINT"]
        .into_iter()
        .filter(|v| std::env::var(v).is_err())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED (replicas): {} not set; .ci/run starts PostgreSQL and an S3 server and sets them",
            missing.join(" and ")
        );
        return None;
    }
    Some(Setup {
        db: Db::Postgres,
        store: Store::S3,
    })
}

async fn patch(reg: &Registry, location: &str, start: usize, data: &[u8]) -> String {
    let r = reg
        .http
        .patch(reg.url(location))
        .header("content-type", "application/octet-stream")
        .header(
            "content-range",
            format!("{start}-{}", start + data.len() - 1),
        )
        .body(data.to_vec())
        .send()
        .await
        .expect("PATCH");
    assert_eq!(r.status(), StatusCode::ACCEPTED, "PATCH at {start}");
    r.headers()["location"].to_str().unwrap().to_string()
}

fn with_digest(location: &str, data: &[u8]) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!("{location}{sep}digest={}", sha256(data))
}

/// The path and query of a Location, so that it can be sent to another replica.
fn path_of(location: &str) -> String {
    match location.find("/v2/") {
        Some(i) => location[i..].to_string(),
        None => location.to_string(),
    }
}

#[tokio::test]
async fn replicas_share_uploads_images_tags_and_revocations() {
    let Some(setup) = shared_setup() else { return };
    let a = TestServer::start_setup_with(&setup, true, "");
    let b = a.replica();
    let admin = Api::admin(&a).await;
    admin.create_project("team").await;
    let scope = ["repository:team/app:pull,push"];
    // A registry token from one replica works on the other: they share httpSecret.
    let r: serde_json::Value = token_response(&a.base, Some(&basic("x", &admin.token)), &scope)
        .await
        .json()
        .await
        .unwrap();
    let jwt = r["token"].as_str().unwrap();
    let on_a = Registry::authorized(&a.base, &format!("Bearer {jwt}"));
    let on_b = Registry::authorized(&b.base, &format!("Bearer {jwt}"));

    // A chunked upload moving between replicas at every step.
    let data = bytes(42, 3 * 1024 * 1024 + 17);
    let mut location = path_of(&on_a.start_upload("team/app").await);
    let pieces: Vec<&[u8]> = data.chunks(1024 * 1024).collect();
    let mut offset = 0;
    for (i, piece) in pieces.iter().enumerate() {
        let via = if i % 2 == 0 { &on_b } else { &on_a };
        location = path_of(&patch(via, &location, offset, piece).await);
        offset += piece.len();
    }
    let r = on_b
        .http
        .put(on_b.url(&with_digest(&location, &data)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let pulled = on_a
        .get(&format!("/v2/team/app/blobs/{}", sha256(&data)))
        .await;
    assert_eq!(pulled.bytes().await.unwrap(), data);

    // An image pushed through one is pulled through the other at once, and tag changes too.
    let image = Image::generated(9, 2);
    on_a.push_image("team/app", "v1", &image).await;
    let r = on_b.get("/v2/team/app/manifests/v1").await;
    assert_eq!(r.bytes().await.unwrap(), image.manifest);
    let newer = Image::generated(10, 1);
    on_b.push_image("team/app", "v1", &newer).await;
    let r = on_a.get("/v2/team/app/manifests/v1").await;
    assert_eq!(r.bytes().await.unwrap(), newer.manifest);
    assert_eq!(on_a.tags("team/app").await, ["v1"]);

    // A token revoked through one replica is refused by the other at once.
    let user = admin.user_with_token("dev").await;
    admin.bind("team", "registry-viewer", "User", "dev").await;
    let dev_on_a = Registry::authorized(&a.base, &basic("x", &user));
    assert_eq!(
        dev_on_a.get("/v2/team/app/tags/list").await.status(),
        StatusCode::OK
    );
    let admin_b = Api::with_token(&b.base, &admin.token);
    let tokens: serde_json::Value = admin_b
        .get("/apis/oauth.openshift.io/v1/oauthaccesstokens")
        .await
        .json()
        .await
        .unwrap();
    let id = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["userName"] == "dev")
        .unwrap()["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let r = admin_b
        .delete(&format!(
            "/apis/oauth.openshift.io/v1/oauthaccesstokens/{id}"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = dev_on_a.get("/v2/team/app/tags/list").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(r).await, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_replica_killed_mid_upload_loses_nothing_and_the_retry_succeeds_elsewhere() {
    let Some(setup) = shared_setup() else { return };
    let mut a = TestServer::start_setup_with(&setup, false, "");
    let b = a.replica();
    let on_a = Registry::new(&a.base);
    let on_b = Registry::new(&b.base);
    // Acknowledged on A before it dies: an image, and the first half of a chunked upload.
    let image = Image::generated(11, 2);
    on_a.push_image("team/app", "v1", &image).await;
    let data = bytes(43, 2 * 1024 * 1024 + 5);
    let (first, second) = data.split_at(1024 * 1024 + 3);
    let location = path_of(&on_a.start_upload("team/app").await);
    let location = path_of(&patch(&on_a, &location, 0, first).await);
    // A second chunk is streaming into A, slowly, when A is killed.
    let slow = futures::stream::unfold(0u32, |n| async move {
        if n == 40 {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        Some((
            Ok::<_, std::io::Error>(bytes::Bytes::from(vec![7u8; 256 * 1024])),
            n + 1,
        ))
    });
    let in_flight = tokio::spawn(
        on_a.http
            .patch(on_a.url(&location))
            .header("content-type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(slow))
            .send(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    a.crash();
    assert!(
        !matches!(in_flight.await, Ok(Ok(r)) if r.status().is_success()),
        "the interrupted chunk was acknowledged"
    );
    // B continues the upload from the acknowledged offset and finishes it.
    let r = on_b.get(&location).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers()["range"].to_str().unwrap(),
        format!("0-{}", first.len() - 1)
    );
    let location = path_of(&patch(&on_b, &location, first.len(), second).await);
    let r = on_b
        .http
        .put(on_b.url(&with_digest(&location, &data)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        on_b.get(&format!("/v2/team/app/blobs/{}", sha256(&data)))
            .await
            .bytes()
            .await
            .unwrap(),
        data
    );
    let r = on_b.get("/v2/team/app/manifests/v1").await;
    assert_eq!(r.bytes().await.unwrap(), image.manifest);
    for blob in image.blobs() {
        let r = on_b
            .get(&format!("/v2/team/app/blobs/{}", sha256(blob)))
            .await;
        assert_eq!(&r.bytes().await.unwrap()[..], &blob[..]);
    }
}

#[tokio::test]
async fn stale_uploads_are_purged_once_by_one_replica() {
    let Some(setup) = shared_setup() else { return };
    let purge = "  maintenance: {uploadpurging: {enabled: true, age: 1s, interval: 1s}}";
    let a = TestServer::start_setup_with(&setup, false, purge);
    let b = a.replica();
    let reg = Registry::new(&a.base);
    let location = path_of(&reg.start_upload("team/app").await);
    patch(&reg, &location, 0, b"some bytes").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = Registry::new(&b.base).get(&location).await;
        if r.status() == StatusCode::NOT_FOUND {
            assert_eq!(error_code(r).await, "BLOB_UPLOAD_UNKNOWN");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the stale upload was never purged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let purged = |s: &TestServer| s.log().matches("purged uploads").count();
    assert_eq!(
        purged(&a) + purged(&b),
        1,
        "the upload was purged {} times",
        purged(&a) + purged(&b)
    );
}
