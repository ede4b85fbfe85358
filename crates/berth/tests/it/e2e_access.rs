//! Real clients against access control: podman logs in with an API token (`podman login -u
//! anything -p <token>`), skopeo with `--creds`, a service account's token, a viewer refused a
//! push, a user name with `:` refused a login.

use crate::support::access::{basic, Api};
use crate::support::layout::{files, Layout};
use crate::support::registry::Registry;
use crate::support::tools::{
    available, private_store, run, run_owned, try_run_in, with, LowercaseDir,
};
use crate::support::{databases, Db, TestServer};
use std::path::Path;

/// An OCI layout with one tagged image, `oci:<dir>:1`.
fn layout(dir: &Path, seed: u64) -> String {
    let mut layout = Layout::create(dir);
    let image = layout.image(&[files(seed, 2), files(seed + 1, 1)], "amd64");
    layout.tag(&image, "1");
    format!("oci:{}:1", dir.display())
}

/// A podman with a private store and a private auth file.
fn podman(tmp: &Path, name: &str) -> Vec<String> {
    let mut args = private_store(&tmp.join(name));
    args.push("--events-backend=file".into());
    args
}

fn podman_try(base: &[String], args: &[&str]) -> std::process::Output {
    let all = with(base, args);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    try_run_in("podman", &refs, None)
}

#[tokio::test]
async fn podman_logs_in_with_a_token_pushes_pulls_and_a_viewer_is_denied() {
    if !available("podman", &["--version"]) {
        return;
    }
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        admin.create_project("team").await;
        let dev = admin.user_with_token("dev").await;
        admin.bind("team", "registry-editor", "User", "dev").await;
        let viewer = admin.user_with_token("vic").await;
        admin.bind("team", "registry-viewer", "User", "vic").await;

        let tmp = LowercaseDir::new();
        let src = layout(&tmp.path().join("src"), 11);
        let name = format!("{}/team/app:1", server.addr);
        let auth = tmp.path().join("auth.json").display().to_string();
        let pm = podman(tmp.path(), "dev");
        let id = run_owned("podman", with(&pm, &["pull", "-q", &src])).stdout;
        let id = String::from_utf8_lossy(&id).trim().to_string();
        run_owned("podman", with(&pm, &["tag", &id, &name]));
        // Not logged in: the push is refused.
        let out = podman_try(
            &pm,
            &["push", "--tls-verify=false", "--authfile", &auth, &name],
        );
        assert!(!out.status.success(), "{db:?}: an anonymous push succeeded");
        run_owned(
            "podman",
            with(
                &pm,
                &[
                    "login",
                    "--tls-verify=false",
                    "--authfile",
                    &auth,
                    "-u",
                    "anything",
                    "-p",
                    &dev,
                    &server.addr,
                ],
            ),
        );
        run_owned(
            "podman",
            with(
                &pm,
                &["push", "--tls-verify=false", "--authfile", &auth, &name],
            ),
        );

        // The viewer pulls into a fresh store, and its push is denied.
        let vauth = tmp.path().join("viewer.json").display().to_string();
        let pv = podman(tmp.path(), "viewer");
        run_owned(
            "podman",
            with(
                &pv,
                &[
                    "login",
                    "--tls-verify=false",
                    "--authfile",
                    &vauth,
                    "-u",
                    "vic",
                    "-p",
                    &viewer,
                    &server.addr,
                ],
            ),
        );
        run_owned(
            "podman",
            with(
                &pv,
                &[
                    "pull",
                    "-q",
                    "--tls-verify=false",
                    "--authfile",
                    &vauth,
                    &name,
                ],
            ),
        );
        let digest = |store: &[String]| {
            let out = run_owned(
                "podman",
                with(
                    store,
                    &["image", "inspect", "--format", "{{.Digest}}", &name],
                ),
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        let stored = Registry::authorized(&server.base, &basic("x", &admin.token))
            .http
            .head(format!("{}/v2/team/app/manifests/1", server.base))
            .header("accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
            .send()
            .await
            .unwrap();
        let stored = stored.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            digest(&pv),
            stored,
            "{db:?}: pulled another image than was pushed"
        );
        let other = format!("{}/team/viewer-made:1", server.addr);
        run_owned("podman", with(&pv, &["tag", &id, &other]));
        let out = podman_try(
            &pv,
            &["push", "--tls-verify=false", "--authfile", &vauth, &other],
        );
        let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(!out.status.success(), "{db:?}: a viewer pushed");
        assert!(
            stderr.contains("denied"),
            "{db:?}: podman should report denied: {stderr}"
        );
    }
}

#[tokio::test]
async fn skopeo_with_creds_and_a_service_account_token_in_podman() {
    if !available("skopeo", &["--version"]) || !available("podman", &["--version"]) {
        return;
    }
    let server = TestServer::start_secure(Db::Sqlite);
    let admin = Api::admin(&server).await;
    admin.create_project("ci").await;
    admin.create_service_account("ci", "builder").await;
    admin
        .bind("ci", "system:image-builder", "ServiceAccount", "builder")
        .await;
    let (_, sa_token) = admin.create_token("system:serviceaccount:ci:builder").await;

    let tmp = LowercaseDir::new();
    let src = layout(&tmp.path().join("src"), 21);
    let dest = format!("docker://{}/ci/tool:1", server.addr);
    let creds = format!("builder:{sa_token}");
    // Without credentials skopeo is refused; with them it copies, lists and inspects.
    let refused = try_run_in(
        "skopeo",
        &["copy", "--dest-tls-verify=false", &src, &dest],
        None,
    );
    assert!(!refused.status.success());
    run(
        "skopeo",
        &[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &src,
            &dest,
        ],
    );
    let tags = run(
        "skopeo",
        &[
            "list-tags",
            "--tls-verify=false",
            "--creds",
            &creds,
            &format!("docker://{}/ci/tool", server.addr),
        ],
    );
    assert!(String::from_utf8_lossy(&tags.stdout).contains("\"1\""));
    run(
        "skopeo",
        &["inspect", "--tls-verify=false", "--creds", &creds, &dest],
    );
    let out = tmp.path().join("out");
    run(
        "skopeo",
        &[
            "copy",
            "--src-tls-verify=false",
            "--src-creds",
            &creds,
            &dest,
            &format!("oci:{}:1", out.display()),
        ],
    );

    // The service account's token works for podman too.
    let auth = tmp.path().join("auth.json").display().to_string();
    let pm = podman(tmp.path(), "sa");
    run_owned(
        "podman",
        with(
            &pm,
            &[
                "login",
                "--tls-verify=false",
                "--authfile",
                &auth,
                "-u",
                "builder",
                "-p",
                &sa_token,
                &server.addr,
            ],
        ),
    );
    run_owned(
        "podman",
        with(
            &pm,
            &[
                "pull",
                "-q",
                "--tls-verify=false",
                "--authfile",
                &auth,
                &format!("{}/ci/tool:1", server.addr),
            ],
        ),
    );
}

#[tokio::test]
async fn a_user_name_with_a_colon_fails_podman_login() {
    if !available("podman", &["--version"]) {
        return;
    }
    let server = TestServer::start_secure(Db::Sqlite);
    let admin = Api::admin(&server).await;
    let tmp = LowercaseDir::new();
    let auth = tmp.path().join("auth.json").display().to_string();
    let pm = podman(tmp.path(), "colon");
    let out = podman_try(
        &pm,
        &[
            "login",
            "--tls-verify=false",
            "--authfile",
            &auth,
            "-u",
            "a:b",
            "-p",
            &admin.token,
            &server.addr,
        ],
    );
    assert!(
        !out.status.success(),
        "login with a user name containing ':' succeeded"
    );
    // The same token under a plain name logs in.
    run_owned(
        "podman",
        with(
            &pm,
            &[
                "login",
                "--tls-verify=false",
                "--authfile",
                &auth,
                "-u",
                "ab",
                "-p",
                &admin.token,
                &server.addr,
            ],
        ),
    );
}
