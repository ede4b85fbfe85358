//! Upload sessions across restarts, and the digest checks of uploads.

use crate::support::registry::{bytes, error_code, sha256, Registry};
use crate::support::{setups, Store, TestServer};
use reqwest::StatusCode;

#[tokio::test]
async fn chunked_upload_resumes_after_a_restart() {
    for setup in setups().into_iter().filter(|s| s.store != Store::Memory) {
        let mut server = TestServer::start_setup(&setup);
        let reg = Registry::new(&server.base);
        let data = bytes(7, 300_000);
        let location = reg.start_upload("p/resume").await;
        let r = reg
            .http
            .patch(reg.url(&location))
            .header("content-range", "0-99999")
            .body(data[..100_000].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);

        server.restart();
        let reg = Registry::new(&server.base);
        let status = reg.get(&location).await;
        assert_eq!(status.status(), StatusCode::NO_CONTENT, "{setup:?}");
        assert_eq!(status.headers()["range"], "0-99999");
        let r = reg
            .http
            .patch(reg.url(&location))
            .header("content-range", "100000-299999")
            .body(data[100_000..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let digest = sha256(&data);
        let r = reg
            .http
            .put(reg.url(&format!("{location}?digest={digest}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let got = reg
            .get(&format!("/v2/p/resume/blobs/{digest}"))
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(got.as_ref(), &data[..]);
    }
}

#[tokio::test]
async fn wrong_digest_leaves_no_blob() {
    let server = TestServer::start();
    let reg = Registry::new(&server.base);
    let data = bytes(1, 5000);
    let wrong = sha256(b"something else");
    let r = reg
        .http
        .post(reg.url(&format!("/v2/p/x/blobs/uploads/?digest={wrong}")))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(r).await, "DIGEST_INVALID");
    for d in [&wrong, &sha256(&data)] {
        assert_eq!(
            reg.head(&format!("/v2/p/x/blobs/{d}")).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert!(reg.catalog().await.is_empty());
}

/// Two requests racing to write the same chunk must never leave a blob whose bytes differ from
/// its digest: the stored content is verified, or the upload is refused.
#[tokio::test]
async fn racing_chunks_never_poison_a_digest() {
    let server = TestServer::start();
    let reg = Registry::new(&server.base);
    for round in 0..10u64 {
        let a = bytes(round * 2, 64 * 1024);
        let b = bytes(round * 2 + 1, 64 * 1024);
        let location = reg.start_upload("p/race").await;
        let send = |body: Vec<u8>| {
            reg.http
                .patch(reg.url(&location))
                .header("content-range", format!("0-{}", body.len() - 1))
                .body(body)
                .send()
        };
        let (ra, rb) = tokio::join!(send(a.clone()), send(b.clone()));
        let _ = (ra.unwrap(), rb.unwrap());
        let r = reg
            .http
            .put(reg.url(&format!("{location}?digest={}", sha256(&a))))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::CREATED {
            let served = reg
                .get(&format!("/v2/p/race/blobs/{}", sha256(&a)))
                .await
                .bytes()
                .await
                .unwrap();
            assert_eq!(
                sha256(&served),
                sha256(&a),
                "round {round}: blob bytes differ from its digest"
            );
        } else {
            assert!(
                r.status().is_client_error(),
                "round {round}: {}",
                r.status()
            );
            assert_eq!(
                reg.head(&format!("/v2/p/race/blobs/{}", sha256(&b)))
                    .await
                    .status(),
                StatusCode::NOT_FOUND
            );
        }
    }
}
