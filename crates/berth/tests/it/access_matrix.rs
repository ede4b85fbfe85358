//! The authorization matrix over HTTP: every role against every registry and API operation,
//! each as a real request by a user holding only that role, compared with a table written out
//! here. (The unit test in `berth-access` checks the role table itself; this one checks that
//! every endpoint asks it the right question.)

use crate::support::access::{basic, Api};
use crate::support::registry::{sha256, Image, Registry, OCI_MANIFEST};
use crate::support::{databases, TestServer};
use reqwest::StatusCode;
use serde_json::json;

const OPS: [&str; 13] = [
    "pull",
    "tags",
    "push blob",
    "push manifest",
    "delete manifest",
    "catalog",
    "get project",
    "list bindings",
    "create serviceaccount",
    "token for serviceaccount",
    "delete project",
    "create project",
    "list users",
];

/// Each role, whether it is bound cluster-wide, and what it may do (`x`) in the order of
/// [`OPS`].
const MATRIX: &[(&str, bool, &str)] = &[
    ("registry-viewer", false, "xx...xx......"),
    ("view", false, "xx...xx......"),
    ("system:image-puller", false, "xx...x......."),
    ("registry-editor", false, "xxxxxxx......"),
    ("edit", false, "xxxxxxx......"),
    ("system:image-pusher", false, "xxxxxx......."),
    ("system:image-builder", false, "xxxxxx......."),
    ("admin", false, "xxxxxxxxxxx.."),
    ("system:registry", false, "xxxxxxx......"),
    ("system:image-pruner", false, "xx...xx......"),
    ("self-provisioner", true, "...........x."),
    ("cluster-admin", true, "xxxxxxxxxxxxx"),
    ("", false, "............."),
];

fn outcome(op: &str, status: StatusCode) -> bool {
    if status.is_success() {
        return true;
    }
    assert!(
        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{op}: a refusal must be 403 or 404, not {status}"
    );
    false
}

#[tokio::test]
async fn every_role_against_every_operation() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        // Only the roles under test may create projects.
        let r = admin
            .send(
                reqwest::Method::PUT,
                "/apis/authorization.openshift.io/v1/clusterrolebindings/self-provisioner",
                Some(json!({"roleRef": {"name": "self-provisioner"}, "subjects": []})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        admin.create_project("m").await;
        admin.create_service_account("m", "robot").await;
        let admin_reg = Registry::authorized(&server.base, &basic("admin", &admin.token));
        admin_reg
            .push_image("m/app", "v1", &Image::generated(1, 1))
            .await;

        let mut failures = Vec::new();
        for (i, (role, cluster_wide, expected)) in MATRIX.iter().enumerate() {
            let user = format!("user-{i}");
            let token = admin.user_with_token(&user).await;
            let own_project = format!("doomed-{i}");
            admin.create_project(&own_project).await;
            if !role.is_empty() {
                if *cluster_wide {
                    admin.bind("", role, "User", &user).await;
                } else {
                    admin.bind("m", role, "User", &user).await;
                    admin.bind(&own_project, role, "User", &user).await;
                }
            }
            let image = Image::generated(100 + i as u64, 1);
            admin_reg
                .push_image(&format!("m/del-{i}"), "v1", &image)
                .await;
            let reg = Registry::authorized(&server.base, &basic("x", &token));
            let api = Api::with_token(&server.base, &token);
            let mut got = String::new();
            for op in OPS {
                let allowed = match op {
                    "pull" => outcome(op, reg.get("/v2/m/app/manifests/v1").await.status()),
                    "tags" => outcome(op, reg.get("/v2/m/app/tags/list").await.status()),
                    "push blob" => {
                        let blob = format!("blob of {user}").into_bytes();
                        let r = reg
                            .http
                            .post(reg.url(&format!(
                                "/v2/m/app/blobs/uploads/?digest={}",
                                sha256(&blob)
                            )))
                            .body(blob)
                            .send()
                            .await
                            .unwrap();
                        outcome(op, r.status())
                    }
                    "push manifest" => {
                        let m = Image::generated(1, 1).manifest;
                        let r = reg
                            .put_manifest_raw("m/app", &format!("by-{i}"), OCI_MANIFEST, &m)
                            .await;
                        outcome(op, r.status())
                    }
                    "delete manifest" => outcome(
                        op,
                        reg.delete(&format!("/v2/m/del-{i}/manifests/{}", image.digest))
                            .await
                            .status(),
                    ),
                    "catalog" => reg.catalog().await.contains(&"m/app".to_string()),
                    "get project" => outcome(
                        op,
                        api.get("/apis/project.openshift.io/v1/projects/m")
                            .await
                            .status(),
                    ),
                    "list bindings" => outcome(
                        op,
                        api.get("/apis/authorization.openshift.io/v1/namespaces/m/rolebindings")
                            .await
                            .status(),
                    ),
                    "create serviceaccount" => outcome(
                        op,
                        api.post(
                            "/api/v1/namespaces/m/serviceaccounts",
                            json!({"metadata": {"name": format!("sa-{i}")}}),
                        )
                        .await
                        .status(),
                    ),
                    "token for serviceaccount" => outcome(
                        op,
                        api.post(
                            "/apis/oauth.openshift.io/v1/oauthaccesstokens",
                            json!({"userName": "system:serviceaccount:m:robot"}),
                        )
                        .await
                        .status(),
                    ),
                    "delete project" => outcome(
                        op,
                        api.delete(&format!(
                            "/apis/project.openshift.io/v1/projects/{own_project}"
                        ))
                        .await
                        .status(),
                    ),
                    "create project" => outcome(
                        op,
                        api.post(
                            "/apis/project.openshift.io/v1/projects",
                            json!({"metadata": {"name": format!("new-{i}")}}),
                        )
                        .await
                        .status(),
                    ),
                    "list users" => outcome(
                        op,
                        api.get("/apis/user.openshift.io/v1/users").await.status(),
                    ),
                    other => panic!("no operation {other}"),
                };
                got.push(if allowed { 'x' } else { '.' });
            }
            if got != *expected {
                failures.push(format!("{role:?}: expected {expected}, got {got}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{db:?}: operations {OPS:?}\n{}",
            failures.join("\n")
        );
    }
}
