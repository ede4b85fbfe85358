//! Hostile and malformed input: each request gets a clear error in the OCI envelope with the
//! spec's status, and nothing changes (catalog, tags, stored files).

use crate::support::registry::{
    bytes, error_code, sha256, Image, Registry, OCI_INDEX, OCI_MANIFEST,
};
use crate::support::snapshot::{raw_request, take};
use crate::support::{databases, TestServer};
use reqwest::{Method, StatusCode};

/// A server holding one pushed image `good/app:v1` and a blob only in `other/secret`.
async fn seeded(server: &TestServer) -> (Registry, Image, String) {
    let reg = Registry::new(&server.base);
    let image = Image::generated(1, 2);
    reg.push_image("good/app", "v1", &image).await;
    let secret = reg.push_blob("other/secret", &bytes(99, 2048)).await;
    (reg, image, secret)
}

async fn expect(
    reg: &Registry,
    method: Method,
    path: &str,
    body: Vec<u8>,
    content_type: &str,
    status: StatusCode,
    code: &str,
) {
    let r = reg
        .http
        .request(method.clone(), reg.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), status, "{method} {path}");
    assert_eq!(error_code(r).await, code, "{method} {path}");
}

#[tokio::test]
async fn bad_names_and_path_tricks_are_name_invalid() {
    let server = TestServer::start();
    let (reg, _, _) = seeded(&server).await;
    let before = take(&server, &reg).await;
    for path in [
        "/v2/a/b/c/tags/list",
        "/v2/Good/app/tags/list",
        "/v2/good/App/manifests/v1",
        "/v2/good//app/tags/list",
        "/v2/good%2Fapp/x/tags/list",
        "/v2/-good/app/blobs/uploads/",
        "/v2/good/app-/manifests/v1",
        &format!("/v2/{}/app/tags/list", "a".repeat(64)),
        &format!("/v2/good/{}/tags/list", "a".repeat(300)),
        "/v2/good/app%00/tags/list",
    ] {
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            let r = reg
                .http
                .request(method.clone(), reg.url(path))
                .send()
                .await
                .expect("request");
            if r.status() == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{method} {path}");
            assert_eq!(error_code(r).await, "NAME_INVALID", "{method} {path}");
        }
    }
    // Dot segments are sent raw: an HTTP client library would resolve them first.
    for path in [
        "/v2/../good/app/tags/list",
        "/v2/good/../tags/list",
        "/v2/good/app/manifests/..",
    ] {
        let (code, text) = raw_request(
            &server.addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert!(code == 400 || code == 404, "{path}: {text}");
        assert!(
            text.contains("NAME_INVALID") || text.contains("NAME_UNKNOWN"),
            "{path}: {text}"
        );
    }
    assert_eq!(take(&server, &reg).await, before);
}

#[tokio::test]
async fn bad_manifests_are_refused_and_change_nothing() {
    for db in databases() {
        let server = TestServer::start_with(db, &[]);
        let (reg, image, secret) = seeded(&server).await;
        let before = take(&server, &reg).await;
        let put = |r: &str| format!("/v2/good/app/manifests/{r}");
        let config = &image.config;
        let with_layer = |digest: &str| {
            serde_json::to_vec(&serde_json::json!({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config), "size": config.len()},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": 2048}],
            }))
            .expect("json")
        };
        let cases: Vec<(String, Vec<u8>, &str, StatusCode, &str)> = vec![
            (put("v2"), b"{not json".to_vec(), OCI_MANIFEST, StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
            (put("v2"), b"[]".to_vec(), OCI_MANIFEST, StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
            (put("v2"), with_layer(&sha256(b"missing")), OCI_MANIFEST, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
            (put("v2"), with_layer(&secret), OCI_MANIFEST, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
            (put(&sha256(b"other")), image.manifest.clone(), OCI_MANIFEST, StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
            (put("v2"), image.manifest.clone(), OCI_INDEX, StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
            (
                put("v2"),
                br#"{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws","fsLayers":[]}"#.to_vec(),
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
                StatusCode::BAD_REQUEST,
                "MANIFEST_INVALID",
            ),
            (
                put("v2"),
                serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
                    "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha256(b"no such child"), "size": 10}]})).expect("json"),
                OCI_INDEX,
                StatusCode::BAD_REQUEST,
                "MANIFEST_BLOB_UNKNOWN",
            ),
            (put("v2"), vec![b' '; 4 * 1024 * 1024 + 1], OCI_MANIFEST, StatusCode::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID"),
            (put("bad%20tag"), image.manifest.clone(), OCI_MANIFEST, StatusCode::BAD_REQUEST, "NAME_INVALID"),
            (format!("{}?tag=-bad", put(&image.digest)), image.manifest.clone(), OCI_MANIFEST, StatusCode::BAD_REQUEST, "NAME_INVALID"),
            (put("md5:d41d8cd98f00b204e9800998ecf8427e"), image.manifest.clone(), OCI_MANIFEST, StatusCode::BAD_REQUEST, "NAME_INVALID"),
        ];
        for (path, body, ct, status, code) in cases {
            expect(&reg, Method::PUT, &path, body, ct, status, code).await;
        }
        assert_eq!(take(&server, &reg).await, before, "{db:?}");
        let served = reg
            .get("/v2/good/app/manifests/v1")
            .await
            .bytes()
            .await
            .expect("body");
        assert_eq!(served.as_ref(), &image.manifest[..]);
    }
}

#[tokio::test]
async fn forged_and_stale_upload_references_are_unknown() {
    for db in databases() {
        let server = TestServer::start_with(db, &[]);
        let (reg, _, _) = seeded(&server).await;
        let location = reg.start_upload("good/app").await;
        let reference = location.rsplit('/').next().expect("reference").to_string();
        let mut parts: Vec<String> = reference.split('.').map(str::to_string).collect();
        assert_eq!(parts.len(), 3, "{reference}");
        let flip = |s: &str| {
            let mut c: Vec<char> = s.chars().collect();
            c[0] = if c[0] == 'a' { 'b' } else { 'a' };
            c.into_iter().collect::<String>()
        };
        let mut forged = vec![
            format!("{}.{}.{}", flip(&parts[0]), parts[1], parts[2]),
            format!("{}.{}.{}", parts[0], parts[1].clone() + "1", parts[2]),
            format!("{}.{}.{}", parts[0], parts[1], flip(&parts[2])),
            format!("{}.{}", parts[0], parts[1]),
            "00000000000000000000000000000000.1.AAAA".to_string(),
            "not-a-reference".to_string(),
        ];
        parts[2] = String::new();
        forged.push(parts.join("."));
        let before = take(&server, &reg).await;
        for f in &forged {
            for (method, path) in [
                (Method::GET, format!("/v2/good/app/blobs/uploads/{f}")),
                (Method::PATCH, format!("/v2/good/app/blobs/uploads/{f}")),
                (
                    Method::PUT,
                    format!("/v2/good/app/blobs/uploads/{f}?digest={}", sha256(b"x")),
                ),
                (Method::DELETE, format!("/v2/good/app/blobs/uploads/{f}")),
            ] {
                expect(
                    &reg,
                    method,
                    &path,
                    b"x".to_vec(),
                    "application/octet-stream",
                    StatusCode::NOT_FOUND,
                    "BLOB_UPLOAD_UNKNOWN",
                )
                .await;
            }
        }
        // The genuine reference, moved to another repository.
        expect(
            &reg,
            Method::GET,
            &format!("/v2/other/secret/blobs/uploads/{reference}"),
            vec![],
            "",
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
        )
        .await;
        assert_eq!(take(&server, &reg).await, before, "{db:?}");

        // Finished and cancelled uploads are gone.
        let data = bytes(5, 100);
        let r = reg
            .http
            .put(reg.url(&format!("{location}?digest={}", sha256(&data))))
            .body(data.clone())
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), StatusCode::CREATED);
        expect(
            &reg,
            Method::PATCH,
            &location,
            b"more".to_vec(),
            "application/octet-stream",
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
        )
        .await;
        let cancelled = reg.start_upload("good/app").await;
        assert_eq!(
            reg.delete(&cancelled).await.status(),
            StatusCode::NO_CONTENT
        );
        expect(
            &reg,
            Method::GET,
            &cancelled,
            vec![],
            "",
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
        )
        .await;
    }
}

#[tokio::test]
async fn bad_chunks_digests_and_ranges() {
    let server = TestServer::start();
    let (reg, image, secret) = seeded(&server).await;
    let location = reg.start_upload("good/app").await;
    let patch = |range: &str, body: &'static [u8]| {
        reg.http
            .patch(reg.url(&location))
            .header("content-type", "application/octet-stream")
            .header("content-range", range.to_string())
            .body(body)
            .send()
    };
    assert_eq!(
        patch("0-3", b"abcd").await.expect("patch").status(),
        StatusCode::ACCEPTED
    );
    let gap = patch("10-13", b"wxyz").await.expect("patch");
    assert_eq!(gap.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(gap.headers()["range"], "0-3");
    let short = patch("4-9", b"ef").await.expect("patch");
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(short).await, "SIZE_INVALID");
    let status = reg.get(&location).await;
    assert_eq!(
        status.headers()["range"],
        "0-3",
        "refused chunks must not be kept"
    );

    let before = take(&server, &reg).await;
    expect(
        &reg,
        Method::PUT,
        &location,
        vec![],
        "",
        StatusCode::BAD_REQUEST,
        "DIGEST_INVALID",
    )
    .await;
    expect(
        &reg,
        Method::PUT,
        &format!("{location}?digest=md5:d41d8cd98f00b204e9800998ecf8427e"),
        vec![],
        "",
        StatusCode::BAD_REQUEST,
        "DIGEST_INVALID",
    )
    .await;
    expect(
        &reg,
        Method::PUT,
        &format!("{location}?digest=sha256:abc"),
        vec![],
        "",
        StatusCode::BAD_REQUEST,
        "DIGEST_INVALID",
    )
    .await;
    expect(
        &reg,
        Method::POST,
        "/v2/good/app/blobs/uploads/?digest=sha256:../../etc",
        vec![],
        "",
        StatusCode::BAD_REQUEST,
        "DIGEST_INVALID",
    )
    .await;

    // Range past the end, and a blob that lives only in another repository.
    let layer = &image.layers[0];
    let r = reg
        .http
        .get(reg.url(&format!("/v2/good/app/blobs/{}", sha256(layer))))
        .header("range", format!("bytes={}-", layer.len()))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{}", layer.len()).as_str()
    );
    expect(
        &reg,
        Method::GET,
        &format!("/v2/good/app/blobs/{secret}"),
        vec![],
        "",
        StatusCode::NOT_FOUND,
        "BLOB_UNKNOWN",
    )
    .await;
    assert_eq!(
        reg.head(&format!("/v2/good/app/blobs/{secret}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    expect(
        &reg,
        Method::DELETE,
        &format!("/v2/good/app/blobs/{secret}"),
        vec![],
        "",
        StatusCode::NOT_FOUND,
        "BLOB_UNKNOWN",
    )
    .await;
    expect(
        &reg,
        Method::GET,
        "/v2/good/app/blobs/sha256:zz",
        vec![],
        "",
        StatusCode::BAD_REQUEST,
        "DIGEST_INVALID",
    )
    .await;
    expect(
        &reg,
        Method::GET,
        "/v2/good/app/tags/list?n=-1",
        vec![],
        "",
        StatusCode::BAD_REQUEST,
        "UNSUPPORTED",
    )
    .await;
    expect(
        &reg,
        Method::POST,
        "/v2/good/app/manifests/v1",
        vec![],
        "",
        StatusCode::METHOD_NOT_ALLOWED,
        "UNSUPPORTED",
    )
    .await;
    expect(
        &reg,
        Method::GET,
        "/v2/good/nothing/tags/list",
        vec![],
        "",
        StatusCode::NOT_FOUND,
        "NAME_UNKNOWN",
    )
    .await;
    expect(
        &reg,
        Method::GET,
        "/v2/good/app/manifests/v9",
        vec![],
        "",
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
    )
    .await;
    assert_eq!(take(&server, &reg).await, before);
}

#[tokio::test]
async fn a_body_cut_off_mid_upload_adds_nothing() {
    let server = TestServer::start();
    let reg = Registry::new(&server.base);
    let location = reg.start_upload("good/cut").await;
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n",
        server.addr
    );
    let mut request = head.into_bytes();
    request.extend(bytes(3, 300_000));
    {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(&server.addr)
            .await
            .expect("connect");
        stream.write_all(&request).await.expect("write");
        stream.shutdown().await.expect("shutdown");
        drop(stream);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let status = reg.get(&location).await;
    assert_eq!(status.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        status.headers()["range"],
        "0-0",
        "a cut-off chunk must not be kept"
    );
    assert!(reg.catalog().await.is_empty());
    // The upload goes on normally afterwards.
    let data = bytes(4, 1000);
    let r = reg
        .http
        .put(reg.url(&format!("{location}?digest={}", sha256(&data))))
        .body(data)
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::CREATED);
}
