//! End to end with real clients: skopeo, podman, buildah and the oras Python SDK push images and
//! artifacts the tests build themselves, pull them back, and the content must match byte for byte.

use crate::support::layout::{closure, files, read_blob, tagged, untar, Files, Layout};
use crate::support::registry::{sha256, Registry};
use crate::support::tools::{
    available, private_store, run, run_in, run_owned, try_run_in, with, LowercaseDir,
};
use crate::support::{setups, TestServer};
use serde_json::Value;
use std::path::Path;

/// Every file in every layer of `repo:tag`, fetched over HTTP, with each blob's digest checked.
async fn pulled_files(reg: &Registry, repo: &str, tag: &str) -> (String, Files) {
    let r = reg
        .http
        .get(reg.url(&format!("/v2/{repo}/manifests/{tag}")))
        .header(
            "accept",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        )
        .send()
        .await
        .expect("GET manifest");
    assert!(
        r.status().is_success(),
        "manifest {repo}:{tag}: {}",
        r.status()
    );
    let body = r.bytes().await.expect("manifest body");
    let manifest: Value = serde_json::from_slice(&body).expect("manifest JSON");
    let mut all = Files::new();
    for layer in manifest["layers"].as_array().expect("layers") {
        let digest = layer["digest"].as_str().expect("digest");
        let blob = reg
            .get(&format!("/v2/{repo}/blobs/{digest}"))
            .await
            .bytes()
            .await
            .expect("blob");
        assert_eq!(
            sha256(&blob),
            digest,
            "layer {digest} served with other bytes"
        );
        all.extend(untar(&blob));
    }
    (sha256(&body), all)
}

fn generated_layers() -> Vec<Files> {
    vec![files(1, 3), files(2, 2), files(3, 1)]
}

fn all_files(layers: &[Files]) -> Files {
    layers.iter().flat_map(|f| f.clone()).collect()
}

fn assert_same_blobs(src: &Path, out: &Path, digest: &str) {
    for d in closure(src, digest) {
        assert_eq!(
            read_blob(src, &d),
            read_blob(out, &d),
            "blob {d} differs after the round trip"
        );
    }
}

#[tokio::test]
async fn skopeo_copies_images_and_indexes_both_ways() {
    if !available("skopeo", &["--version"]) {
        return;
    }
    for setup in setups() {
        let server = TestServer::start_setup(&setup);
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        let mut layout = Layout::create(&src);
        let image = layout.image(&generated_layers(), "amd64");
        layout.tag(&image, "1");
        let amd = layout.image(&[files(4, 2)], "amd64");
        let arm = layout.image(&[files(5, 2)], "arm64");
        let index = layout.index(&[(amd, "amd64"), (arm, "arm64")]);
        layout.tag(&index, "multi");

        let dest = format!("docker://{}/e2e/skopeo-app", server.addr);
        let src_ref = |tag: &str| format!("oci:{}:{tag}", src.display());
        run(
            "skopeo",
            &[
                "copy",
                "--dest-tls-verify=false",
                "--preserve-digests",
                &src_ref("1"),
                &format!("{dest}:1"),
            ],
        );
        run(
            "skopeo",
            &[
                "copy",
                "--all",
                "--dest-tls-verify=false",
                "--preserve-digests",
                &src_ref("multi"),
                &format!("{dest}:multi"),
            ],
        );

        let raw = run(
            "skopeo",
            &[
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("{dest}:1"),
            ],
        )
        .stdout;
        assert_eq!(
            raw,
            read_blob(&src, &image.digest),
            "{setup:?}: manifest bytes changed"
        );
        let info: Value = serde_json::from_slice(
            &run(
                "skopeo",
                &["inspect", "--tls-verify=false", &format!("{dest}:1")],
            )
            .stdout,
        )
        .expect("json");
        assert_eq!(info["Digest"], image.digest);
        assert_eq!(info["Architecture"], "amd64");
        let tags: Value = serde_json::from_slice(
            &run("skopeo", &["list-tags", "--tls-verify=false", &dest]).stdout,
        )
        .expect("json");
        assert_eq!(tags["Tags"], serde_json::json!(["1", "multi"]));

        let out = tmp.path().join("out");
        run(
            "skopeo",
            &[
                "copy",
                "--preserve-digests",
                "--src-tls-verify=false",
                &format!("{dest}:1"),
                &format!("oci:{}:1", out.display()),
            ],
        );
        assert_eq!(tagged(&out, "1"), image.digest);
        assert_same_blobs(&src, &out, &image.digest);
        let out_multi = tmp.path().join("out-multi");
        run(
            "skopeo",
            &[
                "copy",
                "--all",
                "--preserve-digests",
                "--src-tls-verify=false",
                &format!("{dest}:multi"),
                &format!("oci:{}:multi", out_multi.display()),
            ],
        );
        assert_eq!(tagged(&out_multi, "multi"), index.digest);
        assert_same_blobs(&src, &out_multi, &index.digest);

        run(
            "skopeo",
            &["delete", "--tls-verify=false", &format!("{dest}:1")],
        );
        let gone = try_run_in(
            "skopeo",
            &["inspect", "--tls-verify=false", &format!("{dest}:1")],
            None,
        );
        assert!(
            !gone.status.success(),
            "{setup:?}: deleted image still inspectable"
        );
        let tags: Value = serde_json::from_slice(
            &run("skopeo", &["list-tags", "--tls-verify=false", &dest]).stdout,
        )
        .expect("json");
        assert_eq!(tags["Tags"], serde_json::json!(["multi"]));
    }
}

#[tokio::test]
async fn podman_pushes_and_pulls() {
    if !available("podman", &["--version"]) {
        return;
    }
    for setup in setups() {
        let server = TestServer::start_setup(&setup);
        let reg = Registry::new(&server.base);
        // podman names an image pulled from a layout after its path, which must be lowercase.
        let tmp = LowercaseDir::new();
        let src = tmp.path().join("src");
        let mut layout = Layout::create(&src);
        let layers = generated_layers();
        let image = layout.image(&layers, "amd64");
        layout.tag(&image, "1");

        let mut store = private_store(&tmp.path().join("podman"));
        store.push("--events-backend=file".into());
        let name = format!("{}/e2e/podman-app:1", server.addr);
        let id = run_owned(
            "podman",
            with(&store, &["pull", "-q", &format!("oci:{}:1", src.display())]),
        )
        .stdout;
        let id = String::from_utf8_lossy(&id).trim().to_string();
        run_owned("podman", with(&store, &["tag", &id, &name]));
        run_owned(
            "podman",
            with(&store, &["push", "--tls-verify=false", &name]),
        );

        let (pushed_digest, pushed) = pulled_files(&reg, "e2e/podman-app", "1").await;
        assert_eq!(
            pushed,
            all_files(&layers),
            "{setup:?}: the registry holds other files than podman pushed"
        );

        let fresh = private_store(&tmp.path().join("podman-fresh"));
        let mut fresh = fresh;
        fresh.push("--events-backend=file".into());
        run_owned(
            "podman",
            with(&fresh, &["pull", "--tls-verify=false", &name]),
        );
        let digest = run_owned(
            "podman",
            with(
                &fresh,
                &["image", "inspect", "--format", "{{.Digest}}", &name],
            ),
        )
        .stdout;
        assert_eq!(
            String::from_utf8_lossy(&digest).trim(),
            pushed_digest,
            "{setup:?}"
        );
    }
}

#[tokio::test]
async fn buildah_builds_from_scratch_and_pushes() {
    if !available("buildah", &["--version"]) {
        return;
    }
    for setup in setups() {
        let server = TestServer::start_setup(&setup);
        let reg = Registry::new(&server.base);
        let tmp = tempfile::tempdir().expect("tmp");
        let content = files(9, 4);
        let ctx = tmp.path().join("ctx");
        for (name, data) in &content {
            let path = ctx.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(path, data).expect("file");
        }
        let store = private_store(&tmp.path().join("buildah"));
        let container = run_owned("buildah", with(&store, &["from", "scratch"])).stdout;
        let container = String::from_utf8_lossy(&container).trim().to_string();
        run_owned(
            "buildah",
            with(
                &store,
                &[
                    "copy",
                    &container,
                    &ctx.join("data").display().to_string(),
                    "/data",
                ],
            ),
        );
        run_owned(
            "buildah",
            with(
                &store,
                &["config", "--label", "built-by=berth-e2e", &container],
            ),
        );
        run_owned(
            "buildah",
            with(&store, &["commit", &container, "localhost/built:1"]),
        );
        let dest = format!("docker://{}/e2e/buildah-app:1", server.addr);
        run_owned(
            "buildah",
            with(
                &store,
                &["push", "--tls-verify=false", "localhost/built:1", &dest],
            ),
        );

        let (_, pulled) = pulled_files(&reg, "e2e/buildah-app", "1").await;
        assert_eq!(
            pulled, content,
            "{setup:?}: pulled files differ from the built ones"
        );
    }
}

#[tokio::test]
async fn oras_pushes_an_artifact_and_a_referrer() {
    let has_oras = try_run_in("python3", &["-c", "import oras.client"], None)
        .status
        .success();
    if !has_oras {
        eprintln!(
            "SKIPPED (oras): the oras Python SDK is not installed; .ci/run runs `pip install oras`"
        );
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/oras_roundtrip.py");
    for setup in setups() {
        let server = TestServer::start_setup(&setup);
        let reg = Registry::new(&server.base);
        let tmp = tempfile::tempdir().expect("tmp");
        let payload = crate::support::registry::bytes(42, 200_000);
        let sbom = br#"{"sbom":"berth e2e","packages":[]}"#.to_vec();
        std::fs::write(tmp.path().join("payload.bin"), &payload).expect("payload");
        std::fs::write(tmp.path().join("sbom.json"), &sbom).expect("sbom");

        let out = run_in(
            "python3",
            &[
                &script.display().to_string(),
                &server.addr,
                "e2e/oras-artifact",
                &tmp.path().display().to_string(),
            ],
            Some(tmp.path()),
        );
        let summary: Value = serde_json::from_slice(&out.stdout).expect("summary JSON");
        let pulled_payload =
            std::fs::read(summary["artifact"][0].as_str().expect("path")).expect("pulled payload");
        let pulled_sbom =
            std::fs::read(summary["sbom"][0].as_str().expect("path")).expect("pulled sbom");
        assert_eq!(pulled_payload, payload, "{setup:?}");
        assert_eq!(pulled_sbom, sbom, "{setup:?}");

        let subject = summary["subject"].as_str().expect("subject");
        let r = reg
            .get(&format!("/v2/e2e/oras-artifact/referrers/{subject}"))
            .await;
        assert_eq!(r.status(), 200);
        let index: Value = r.json().await.expect("referrers JSON");
        let refs = index["manifests"].as_array().expect("manifests");
        assert_eq!(refs.len(), 1, "{index}");
        assert_eq!(
            refs[0]["artifactType"],
            "application/vnd.berth.test.sbom.config"
        );
        let sbom_manifest = reg
            .get("/v2/e2e/oras-artifact/manifests/sbom")
            .await
            .bytes()
            .await
            .expect("sbom manifest");
        assert_eq!(refs[0]["digest"], sha256(&sbom_manifest));

        let filtered = reg
            .get(&format!(
                "/v2/e2e/oras-artifact/referrers/{subject}?artifactType=application/vnd.other"
            ))
            .await;
        assert_eq!(filtered.headers()["oci-filters-applied"], "artifactType");
        let filtered: Value = filtered.json().await.expect("JSON");
        assert_eq!(filtered["manifests"], serde_json::json!([]));
    }
}
