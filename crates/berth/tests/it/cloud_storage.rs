//! What only object stores do: blob pulls redirected to short-lived signed URLs
//! (`storage.redirect: true`), so that the bytes flow from the store to the client.

use crate::support::registry::{sha256, Image, Registry};
use crate::support::tools::{available, run, LowercaseDir};
use crate::support::{setups, Db, Setup, Store, TestServer};
use reqwest::StatusCode;

#[tokio::test]
async fn pulls_are_redirected_to_signed_urls_when_asked() {
    let stores: Vec<Store> = setups()
        .into_iter()
        .map(|s| s.store)
        .filter(|s| matches!(s, Store::S3 | Store::Azure | Store::Gcs))
        .collect();
    if stores.is_empty() {
        eprintln!("SKIPPED (redirects): no object store server is available; .ci/run starts them");
    }
    for store in stores {
        let setup = Setup {
            db: Db::Sqlite,
            store,
        };
        let server = TestServer::start_setup_with(&setup, false, "  redirect: true");
        let reg = Registry::new(&server.base);
        let image = Image::generated(31, 2);
        reg.push_image("cloud/app", "v1", &image).await;
        let layer = &image.layers[0];
        let no_follow = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let path = format!("/v2/cloud/app/blobs/{}", sha256(layer));
        let r = no_follow.get(server.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT, "{store:?}");
        assert_eq!(
            r.headers()["docker-content-digest"].to_str().unwrap(),
            sha256(layer)
        );
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(!location.starts_with(&server.base), "{store:?}: {location}");
        // The signed URL serves the bytes, and ranges of them.
        let bytes = no_follow
            .get(&location)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&bytes[..], &layer[..], "{store:?}");
        let part = no_follow
            .get(&location)
            .header("range", "bytes=10-19")
            .send()
            .await
            .unwrap();
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(&part.bytes().await.unwrap()[..], &layer[10..20]);
        // HEAD is answered by the registry; a client that follows redirects just gets bytes.
        let head = reg.head(&path).await;
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(
            head.headers()["content-length"].to_str().unwrap(),
            layer.len().to_string()
        );
        assert_eq!(&reg.get(&path).await.bytes().await.unwrap()[..], &layer[..]);
        if available("skopeo", &["--version"]) {
            let out = LowercaseDir::new();
            run(
                "skopeo",
                &[
                    "copy",
                    "--src-tls-verify=false",
                    &format!("docker://{}/cloud/app:v1", server.addr),
                    &format!("oci:{}:v1", out.path().join("pulled").display()),
                ],
            );
        }
    }
}
