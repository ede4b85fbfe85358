//! The four workflows of the OCI conformance suite — pull, push, content discovery, content
//! management — request by request, with the statuses and headers the specification requires.

use crate::support::registry::{bytes, sha256, Image, Registry, OCI_INDEX, OCI_MANIFEST};
use crate::support::{setups, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("header")
        .to_string()
}

#[tokio::test]
async fn push_workflow() {
    for setup in setups() {
        let server = TestServer::start_setup(&setup);
        let reg = Registry::new(&server.base);
        let r = reg.get("/v2/").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            header(&r, "docker-distribution-api-version"),
            "registry/2.0"
        );

        // POST then PUT with the whole body.
        let data = bytes(1, 10_000);
        let location = reg.start_upload("wf/push").await;
        let r = reg
            .http
            .put(reg.url(&format!("{location}?digest={}", sha256(&data))))
            .body(data.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(
            header(&r, "location"),
            format!("/v2/wf/push/blobs/{}", sha256(&data))
        );
        assert_eq!(header(&r, "docker-content-digest"), sha256(&data));

        // Chunked, with status checks in between and the last chunk in the PUT.
        let data = bytes(2, 25_000);
        let location = reg.start_upload("wf/push").await;
        let r = reg
            .http
            .patch(reg.url(&location))
            .header("content-range", "0-9999")
            .header("content-length", "10000")
            .body(data[..10_000].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        assert_eq!(header(&r, "range"), "0-9999");
        let next = header(&r, "location");
        let status = reg.get(&next).await;
        assert_eq!(status.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&status, "range"), "0-9999");
        assert!(header(&status, "location").contains("/blobs/uploads/"));
        let r = reg
            .http
            .patch(reg.url(&next))
            .body(data[10_000..20_000].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::ACCEPTED,
            "a streamed PATCH without Content-Range appends"
        );
        assert_eq!(header(&r, "range"), "0-19999");
        let r = reg
            .http
            .put(reg.url(&format!("{next}?digest={}", sha256(&data))))
            .header("content-range", "20000-24999")
            .body(data[20_000..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let got = reg
            .get(&format!("/v2/wf/push/blobs/{}", sha256(&data)))
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(got.as_ref(), &data[..]);

        // sha512 and an empty blob.
        let data = bytes(3, 5000);
        let d512 = {
            use sha2::Digest;
            format!("sha512:{}", hex::encode(sha2::Sha512::digest(&data)))
        };
        let r = reg
            .http
            .post(reg.url(&format!("/v2/wf/push/blobs/uploads/?digest={d512}")))
            .body(data.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(
            reg.get(&format!("/v2/wf/push/blobs/{d512}"))
                .await
                .bytes()
                .await
                .unwrap()
                .as_ref(),
            &data[..]
        );
        let empty = reg.push_blob("wf/push", b"").await;
        let r = reg.head(&format!("/v2/wf/push/blobs/{empty}")).await;
        assert_eq!(header(&r, "content-length"), "0");

        // Cross-repository mount: with a source that holds the blob, without, and with none.
        let data = bytes(8, 3000);
        reg.push_blob("wf/push", &data).await;
        let r = reg
            .http
            .post(reg.url(&format!(
                "/v2/wf/mounted/blobs/uploads/?mount={}&from=wf/push",
                sha256(&data)
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(
            header(&r, "location"),
            format!("/v2/wf/mounted/blobs/{}", sha256(&data))
        );
        assert_eq!(
            reg.head(&format!("/v2/wf/mounted/blobs/{}", sha256(&data)))
                .await
                .status(),
            StatusCode::OK
        );
        for query in [
            format!("mount={}&from=wf/empty", sha256(b"nope")),
            format!("mount={}", sha256(&data)),
        ] {
            let r = reg
                .http
                .post(reg.url(&format!("/v2/wf/mounted2/blobs/uploads/?{query}")))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::ACCEPTED,
                "{query}: falls back to an upload session"
            );
            assert!(header(&r, "location").contains("/blobs/uploads/"));
        }

        // Manifests by tag and by digest, with ?tag= on the digest push.
        let image = Image::generated(4, 2);
        for blob in image.blobs() {
            reg.push_blob("wf/push", blob).await;
        }
        let r = reg
            .put_manifest_raw("wf/push", "v1", OCI_MANIFEST, &image.manifest)
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(
            header(&r, "location"),
            format!("/v2/wf/push/manifests/{}", image.digest)
        );
        assert_eq!(header(&r, "docker-content-digest"), image.digest);
        let r = reg
            .put_manifest_raw(
                "wf/push",
                &format!("{}?tag=v2&tag=v3", image.digest),
                OCI_MANIFEST,
                &image.manifest,
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let tags: Vec<_> = r
            .headers()
            .get_all("oci-tag")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert_eq!(tags, vec!["v2", "v3"]);
        assert_eq!(reg.tags("wf/push").await, vec!["v1", "v2", "v3"]);
    }
}

#[tokio::test]
async fn pull_workflow() {
    let server = TestServer::start();
    let reg = Registry::new(&server.base);
    let image = Image::generated(5, 3);
    reg.push_image("wf/pull", "latest", &image).await;
    for reference in ["latest".to_string(), image.digest.clone()] {
        let r = reg
            .head(&format!("/v2/wf/pull/manifests/{reference}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            header(&r, "content-length"),
            image.manifest.len().to_string()
        );
        assert_eq!(header(&r, "docker-content-digest"), image.digest);
        let r = reg
            .http
            .get(reg.url(&format!("/v2/wf/pull/manifests/{reference}")))
            .header("accept", OCI_MANIFEST)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "content-type"), OCI_MANIFEST);
        assert_eq!(r.bytes().await.unwrap().as_ref(), &image.manifest[..]);
    }
    for blob in image.blobs() {
        let d = sha256(blob);
        let r = reg.head(&format!("/v2/wf/pull/blobs/{d}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-length"), blob.len().to_string());
        assert_eq!(header(&r, "docker-content-digest"), d);
        assert_eq!(
            reg.get(&format!("/v2/wf/pull/blobs/{d}"))
                .await
                .bytes()
                .await
                .unwrap()
                .as_ref(),
            &blob[..]
        );
    }
    let layer = &image.layers[1];
    let r = reg
        .http
        .get(reg.url(&format!("/v2/wf/pull/blobs/{}", sha256(layer))))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&r, "content-range"),
        format!("bytes 10-19/{}", layer.len())
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &layer[10..20]);
    let r = reg.head("/v2/wf/pull/manifests/missing").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        reg.get(&format!("/v2/wf/pull/blobs/{}", sha256(b"missing")))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn content_discovery_workflow() {
    for setup in setups() {
        let server = TestServer::start_setup(&setup);
        let reg = Registry::new(&server.base);
        let image = Image::generated(6, 1);
        for tag in ["c", "a", "b", "d", "e"] {
            reg.push_image("wf/disc", tag, &image).await;
        }
        reg.push_image("wf/other", "x", &image).await;
        let body: Value = reg.get("/v2/wf/disc/tags/list").await.json().await.unwrap();
        assert_eq!(
            body,
            json!({"name": "wf/disc", "tags": ["a", "b", "c", "d", "e"]})
        );
        let r = reg.get("/v2/wf/disc/tags/list?n=2").await;
        assert_eq!(
            header(&r, "link"),
            "</v2/wf/disc/tags/list?n=2&last=b>; rel=\"next\""
        );
        assert_eq!(r.json::<Value>().await.unwrap()["tags"], json!(["a", "b"]));
        let body: Value = reg
            .get("/v2/wf/disc/tags/list?n=2&last=b")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["tags"], json!(["c", "d"]));
        let r = reg.get("/v2/wf/disc/tags/list?n=0").await;
        assert_eq!(r.json::<Value>().await.unwrap()["tags"], json!([]));
        let r = reg.get("/v2/_catalog?n=1").await;
        assert_eq!(
            header(&r, "link"),
            "</v2/_catalog?n=1&last=wf%2Fdisc>; rel=\"next\""
        );
        let body: Value = reg
            .get("/v2/_catalog?n=5&last=wf/disc")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["repositories"], json!(["wf/other"]));

        // Referrers: two artifacts refer to the image, one of another type; and one whose
        // subject was never pushed.
        let empty = reg.push_blob("wf/disc", b"{}").await;
        let subject = json!({"mediaType": OCI_MANIFEST, "digest": image.digest, "size": image.manifest.len()});
        let mut pushed = Vec::new();
        for (i, kind) in ["application/vnd.test.sbom", "application/vnd.test.sig"]
            .iter()
            .enumerate()
        {
            let m = serde_json::to_vec(&json!({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": kind,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
                "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2}],
                "subject": subject, "annotations": {"n": i.to_string()},
            }))
            .unwrap();
            let r = reg
                .put_manifest_raw("wf/disc", &sha256(&m), OCI_MANIFEST, &m)
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
            assert_eq!(header(&r, "oci-subject"), image.digest);
            pushed.push((sha256(&m), m.len(), kind.to_string()));
        }
        let r = reg
            .get(&format!("/v2/wf/disc/referrers/{}", image.digest))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), OCI_INDEX);
        let index: Value = r.json().await.unwrap();
        assert_eq!(index["mediaType"], OCI_INDEX);
        let mut listed: Vec<(String, usize, String)> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["digest"].as_str().unwrap().to_string(),
                    d["size"].as_u64().unwrap() as usize,
                    d["artifactType"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        listed.sort();
        pushed.sort();
        assert_eq!(listed, pushed);
        let r = reg
            .get(&format!(
                "/v2/wf/disc/referrers/{}?artifactType=application/vnd.test.sig",
                image.digest
            ))
            .await;
        assert_eq!(header(&r, "oci-filters-applied"), "artifactType");
        let index: Value = r.json().await.unwrap();
        assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
        assert_eq!(index["manifests"][0]["annotations"]["n"], "1");
        let none: Value = reg
            .get(&format!("/v2/wf/disc/referrers/{}", sha256(b"nothing")))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(none["manifests"], json!([]));
        let elsewhere: Value = reg
            .get(&format!("/v2/wf/other/referrers/{}", image.digest))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            elsewhere["manifests"],
            json!([]),
            "referrers are per repository"
        );
    }
}

#[tokio::test]
async fn content_management_workflow() {
    for setup in setups() {
        let server = TestServer::start_setup(&setup);
        let reg = Registry::new(&server.base);
        let image = Image::generated(7, 2);
        reg.push_image("wf/mgmt", "keep", &image).await;
        reg.push_image("wf/mgmt", "drop", &image).await;
        let r = reg.delete("/v2/wf/mgmt/manifests/drop").await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        assert_eq!(
            reg.get("/v2/wf/mgmt/manifests/drop").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            reg.get("/v2/wf/mgmt/manifests/keep").await.status(),
            StatusCode::OK,
            "deleting a tag keeps the manifest"
        );
        let r = reg
            .delete(&format!("/v2/wf/mgmt/manifests/{}", image.digest))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        assert_eq!(
            reg.get(&format!("/v2/wf/mgmt/manifests/{}", image.digest))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            reg.get("/v2/wf/mgmt/manifests/keep").await.status(),
            StatusCode::NOT_FOUND,
            "tags go with their manifest"
        );
        assert_eq!(
            reg.delete(&format!("/v2/wf/mgmt/manifests/{}", image.digest))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let layer = sha256(&image.layers[0]);
        assert_eq!(
            reg.delete(&format!("/v2/wf/mgmt/blobs/{layer}"))
                .await
                .status(),
            StatusCode::ACCEPTED
        );
        assert_eq!(
            reg.get(&format!("/v2/wf/mgmt/blobs/{layer}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            reg.delete(&format!("/v2/wf/mgmt/blobs/{layer}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        // The same content can be pushed again.
        reg.push_image("wf/mgmt", "again", &image).await;
        assert_eq!(
            reg.get(&format!("/v2/wf/mgmt/blobs/{layer}"))
                .await
                .bytes()
                .await
                .unwrap()
                .as_ref(),
            &image.layers[0][..]
        );
    }
}
