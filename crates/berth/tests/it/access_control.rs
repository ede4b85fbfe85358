//! Access control over HTTP, on every metadata backend: who may pull, push, mount, list and
//! manage what, anonymous access, token revocation, and what deleting a project removes.

use crate::support::access::{basic, registry_client, token_response, Api};
use crate::support::registry::{error_code, Image, Registry};
use crate::support::{databases, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

/// A secured server with the projects `team-a` and `team-b`, each holding `team-x/app:v1`.
async fn two_projects(server: &TestServer) -> (Api, Image) {
    let admin = Api::admin(server).await;
    let image = Image::generated(7, 2);
    for p in ["team-a", "team-b"] {
        admin.create_project(p).await;
        let reg = registry_client(
            &server.base,
            Some(&admin.token),
            &[&format!("repository:{p}/app:pull,push")],
        )
        .await;
        reg.push_image(&format!("{p}/app"), "v1", &image).await;
    }
    (admin, image)
}

#[tokio::test]
async fn viewer_pulls_and_is_denied_push_with_a_clear_message() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let (admin, image) = two_projects(&server).await;
        let viewer = admin.user_with_token("vera").await;
        admin
            .bind("team-a", "registry-viewer", "User", "vera")
            .await;

        let reg = registry_client(
            &server.base,
            Some(&viewer),
            &["repository:team-a/app:pull,push"],
        )
        .await;
        let r = reg.get("/v2/team-a/app/manifests/v1").await;
        assert_eq!(r.status(), StatusCode::OK, "{db:?}");
        assert_eq!(r.bytes().await.unwrap(), image.manifest);
        // The token granted only pull: a push is refused with DENIED, naming what is missing.
        let r = reg
            .http
            .post(reg.url("/v2/team-a/app/blobs/uploads/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{db:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "DENIED");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("vera") && message.contains("registry-editor"),
            "{message}"
        );
        // And basic auth with the token directly gives the same answers.
        let direct = Registry::authorized(&server.base, &basic("x", &viewer));
        assert_eq!(
            direct.get("/v2/team-a/app/manifests/v1").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            error_code(
                direct
                    .delete(&format!("/v2/team-a/app/manifests/{}", image.digest))
                    .await
            )
            .await,
            "DENIED"
        );
        // Nothing in team-b.
        assert_eq!(
            direct.get("/v2/team-b/app/manifests/v1").await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            Registry::new(&server.base).tags("team-a/app").await,
            Vec::<String>::new()
        );
        assert_eq!(direct.tags("team-a/app").await, ["v1"]);
    }
}

#[tokio::test]
async fn editor_of_one_project_can_neither_push_to_another_nor_mount_from_it() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let (admin, image) = two_projects(&server).await;
        let editor = admin.user_with_token("eddie").await;
        admin
            .bind("team-a", "registry-editor", "User", "eddie")
            .await;
        let reg = registry_client(
            &server.base,
            Some(&editor),
            &[
                "repository:team-a/new:pull,push",
                "repository:team-b/app:pull",
                "repository:team-b/new:pull,push",
            ],
        )
        .await;
        // Pushing into team-a creates the image stream there.
        let other = Image::generated(8, 1);
        reg.push_image("team-a/new", "v1", &other).await;
        // Pushing into team-b is denied, and changes nothing there.
        let r = reg
            .http
            .post(reg.url(&format!(
                "/v2/team-b/new/blobs/uploads/?digest={}",
                crate::support::registry::sha256(&other.config)
            )))
            .body(other.config.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r).await, "DENIED", "{db:?}");
        // Mounting a team-b blob into team-a: no pull on the source, so an ordinary upload
        // session (202), never the blob.
        let layer = crate::support::registry::sha256(&image.layers[0]);
        let r = reg
            .http
            .post(reg.url(&format!(
                "/v2/team-a/new/blobs/uploads/?mount={layer}&from=team-b/app"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{db:?}");
        assert_eq!(
            reg.head(&format!("/v2/team-a/new/blobs/{layer}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        // With pull on the source the same mount succeeds.
        admin
            .bind("team-b", "registry-viewer", "User", "eddie")
            .await;
        let reg = registry_client(
            &server.base,
            Some(&editor),
            &[
                "repository:team-a/new:pull,push",
                "repository:team-b/app:pull",
            ],
        )
        .await;
        let r = reg
            .http
            .post(reg.url(&format!(
                "/v2/team-a/new/blobs/uploads/?mount={layer}&from=team-b/app"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{db:?}");
        let admin_reg = Registry::authorized(&server.base, &basic("x", &admin.token));
        assert_eq!(admin_reg.tags("team-b/app").await, ["v1"]);
        assert!(admin_reg.tags("team-b/new").await.is_empty());
    }
}

#[tokio::test]
async fn anonymous_pull_works_only_where_opened() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let (admin, image) = two_projects(&server).await;
        let anon = Registry::new(&server.base);
        // /v2/ asks for a login, pointing at the token endpoint.
        let r = anon.get("/v2/").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            challenge.starts_with(&format!(
                "Bearer realm=\"{}/openshift/token\",service=\"",
                server.base
            )),
            "{challenge}"
        );
        let r = anon.get("/v2/team-a/app/manifests/v1").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{db:?}");
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("scope=\"repository:team-a/app:pull\""));
        admin
            .bind(
                "team-a",
                "system:image-puller",
                "Group",
                "system:unauthenticated",
            )
            .await;
        // Directly, and through an anonymous registry token as podman gets one.
        assert_eq!(
            anon.get("/v2/team-a/app/manifests/v1").await.status(),
            StatusCode::OK
        );
        let reg = registry_client(
            &server.base,
            None,
            &[
                "repository:team-a/app:pull,push",
                "repository:team-b/app:pull",
            ],
        )
        .await;
        let blob = reg
            .get(&format!(
                "/v2/team-a/app/blobs/{}",
                crate::support::registry::sha256(&image.config)
            ))
            .await;
        assert_eq!(blob.bytes().await.unwrap(), image.config);
        assert_eq!(
            reg.get("/v2/team-b/app/manifests/v1").await.status(),
            StatusCode::UNAUTHORIZED
        );
        // Pushing anonymously is never allowed.
        let r = reg
            .http
            .post(reg.url("/v2/team-a/app/blobs/uploads/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        // The catalog shows an anonymous caller only the open project.
        assert_eq!(anon.catalog().await, ["team-a/app"]);
    }
}

#[tokio::test]
async fn a_revoked_token_stops_at_once_also_through_registry_tokens() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let (admin, _) = two_projects(&server).await;
        admin.create_service_account("team-a", "builder").await;
        admin
            .bind(
                "team-a",
                "system:image-builder",
                "ServiceAccount",
                "builder",
            )
            .await;
        let (id, token) = admin
            .create_token("system:serviceaccount:team-a:builder")
            .await;
        let reg = registry_client(
            &server.base,
            Some(&token),
            &["repository:team-a/app:pull,push"],
        )
        .await;
        let direct = Registry::authorized(&server.base, &basic("x", &token));
        assert_eq!(
            reg.get("/v2/team-a/app/manifests/v1").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            direct.get("/v2/team-a/app/manifests/v1").await.status(),
            StatusCode::OK
        );
        let r = admin
            .delete(&format!(
                "/apis/oauth.openshift.io/v1/oauthaccesstokens/{id}"
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        for client in [&reg, &direct] {
            let r = client.get("/v2/team-a/app/manifests/v1").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{db:?}");
            assert_eq!(error_code(r).await, "UNAUTHORIZED");
        }
        let r = Api::with_token(&server.base, &token)
            .get("/apis/user.openshift.io/v1/users/~")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = token_response(
            &server.base,
            Some(&basic("x", &token)),
            &["repository:team-a/app:pull"],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn catalog_lists_only_what_the_caller_may_pull() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let (admin, _) = two_projects(&server).await;
        let puller = admin.user_with_token("pat").await;
        admin
            .bind("team-b", "system:image-puller", "User", "pat")
            .await;
        let as_pat = Registry::authorized(&server.base, &basic("pat", &puller));
        assert_eq!(as_pat.catalog().await, ["team-b/app"], "{db:?}");
        let as_admin = Registry::authorized(&server.base, &basic("admin", &admin.token));
        assert_eq!(as_admin.catalog().await, ["team-a/app", "team-b/app"]);
        let nobody = admin.user_with_token("nobody").await;
        assert!(Registry::authorized(&server.base, &basic("x", &nobody))
            .catalog()
            .await
            .is_empty());
    }
}

#[tokio::test]
async fn pushing_into_a_missing_project_is_refused_and_projects_are_made_through_the_api() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        let reg = registry_client(
            &server.base,
            Some(&admin.token),
            &["repository:ghost/app:pull,push"],
        )
        .await;
        let r = reg
            .http
            .post(reg.url("/v2/ghost/app/blobs/uploads/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{db:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "NAME_UNKNOWN");
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("berth new-project ghost"));
        let r = reg
            .put_manifest_raw(
                "ghost/app",
                "v1",
                crate::support::registry::OCI_MANIFEST,
                &Image::generated(1, 1).manifest,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = admin
            .get("/apis/project.openshift.io/v1/projects/ghost")
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // Any user may create a project and becomes its admin; another user does not see it.
        let alice = admin.user_with_token("alice").await;
        let alice_api = Api::with_token(&server.base, &alice);
        alice_api.create_project("alice-stuff").await;
        let r: Value = alice_api
            .get("/apis/authorization.openshift.io/v1/namespaces/alice-stuff/rolebindings/admin")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["userNames"], serde_json::json!(["alice"]));
        let bob = Api::with_token(&server.base, &admin.user_with_token("bob").await);
        let list: Value = bob
            .get("/apis/project.openshift.io/v1/projects")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"], serde_json::json!([]));
        assert_eq!(
            bob.get("/apis/project.openshift.io/v1/projects/alice-stuff")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            bob.delete("/apis/project.openshift.io/v1/projects/alice-stuff")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let list: Value = alice_api
            .get("/apis/project.openshift.io/v1/projects")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"][0]["metadata"]["name"], "alice-stuff");
        assert_eq!(
            list["items"][0]["metadata"]["annotations"]["openshift.io/requester"],
            "alice"
        );
        // A service account may not create projects (only users are self-provisioners).
        alice_api
            .create_service_account("alice-stuff", "robot")
            .await;
        let (_, robot) = alice_api
            .create_token("system:serviceaccount:alice-stuff:robot")
            .await;
        let r = Api::with_token(&server.base, &robot)
            .post(
                "/apis/project.openshift.io/v1/projects",
                serde_json::json!({"metadata": {"name": "robot-made"}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn deleting_a_project_removes_its_streams_service_accounts_tokens_and_bindings() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let (admin, _) = two_projects(&server).await;
        admin.create_service_account("team-a", "builder").await;
        admin
            .bind(
                "team-a",
                "system:image-builder",
                "ServiceAccount",
                "builder",
            )
            .await;
        admin
            .bind(
                "team-b",
                "system:image-puller",
                "User",
                "system:serviceaccount:team-a:builder",
            )
            .await;
        // (a binding elsewhere to team-a's service account, given by its namespace)
        let (_, sa_token) = admin
            .create_token("system:serviceaccount:team-a:builder")
            .await;
        let r = admin
            .delete("/apis/project.openshift.io/v1/projects/team-a")
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{db:?}");
        let as_admin = Registry::authorized(&server.base, &basic("x", &admin.token));
        assert_eq!(as_admin.catalog().await, ["team-b/app"]);
        assert_eq!(
            as_admin.get("/v2/team-a/app/tags/list").await.status(),
            StatusCode::NOT_FOUND
        );
        let sa = Registry::authorized(&server.base, &basic("x", &sa_token));
        assert_eq!(
            sa.get("/v2/team-b/app/tags/list").await.status(),
            StatusCode::UNAUTHORIZED
        );
        let b: Value = admin
            .get("/apis/authorization.openshift.io/v1/namespaces/team-b/rolebindings")
            .await
            .json()
            .await
            .unwrap();
        assert!(!b.to_string().contains("builder"), "{b}");
        // The name can be used again, empty.
        admin.create_project("team-a").await;
        assert!(as_admin.tags("team-a/app").await.is_empty());
    }
}

#[tokio::test]
async fn tokens_are_listed_without_secrets_and_managed_by_the_right_people() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        admin.create_project("team-a").await;
        admin.create_service_account("team-a", "builder").await;
        let carol = admin.user_with_token("carol").await;
        let carol_api = Api::with_token(&server.base, &carol);
        // carol cannot make tokens for others, nor for team-a's service account…
        let r = carol_api
            .post(
                "/apis/oauth.openshift.io/v1/oauthaccesstokens",
                serde_json::json!({"userName": "admin"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{db:?}");
        let r = carol_api
            .post(
                "/apis/oauth.openshift.io/v1/oauthaccesstokens",
                serde_json::json!({"userName": "system:serviceaccount:team-a:builder"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // …until she is team-a's admin.
        admin.bind("team-a", "admin", "User", "carol").await;
        let (id, _) = carol_api
            .create_token("system:serviceaccount:team-a:builder")
            .await;
        let listed: Value = carol_api
            .get("/apis/oauth.openshift.io/v1/oauthaccesstokens?namespace=team-a")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert_eq!(listed["items"][0]["metadata"]["name"], id.as_str());
        assert_eq!(
            listed["items"][0]["userName"],
            "system:serviceaccount:team-a:builder"
        );
        assert!(listed["items"][0].get("token").is_none());
        let own: Value = carol_api
            .get("/apis/oauth.openshift.io/v1/oauthaccesstokens")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(own["items"].as_array().unwrap().len(), 1);
        assert_eq!(own["items"][0]["userName"], "carol");
        let all: Value = admin
            .get("/apis/oauth.openshift.io/v1/oauthaccesstokens")
            .await
            .json()
            .await
            .unwrap();
        assert!(all["items"].as_array().unwrap().len() >= 3);
        assert!(
            !all.to_string().contains("sha256~"),
            "no secret is ever listed"
        );
        // A token made by logging in with a password expires in a day; others do not.
        let me: Value = admin
            .get(&format!(
                "/apis/oauth.openshift.io/v1/oauthaccesstokens/{id}"
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["expiresIn"], 0);
        let r: Value = admin
            .get("/apis/user.openshift.io/v1/users/~")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["metadata"]["name"], "admin");
    }
}

/// A binding read back and written with a subject removed loses it, even though the answer
/// also listed it in `userNames` (subjects win, as in OpenShift).
#[tokio::test]
async fn a_binding_written_back_without_a_subject_loses_it() {
    let server = TestServer::start_secure(crate::support::Db::Sqlite);
    let admin = Api::admin(&server).await;
    admin.create_project("team").await;
    admin.create_user("ann", None).await;
    admin.create_user("bob", None).await;
    admin.bind("team", "registry-viewer", "User", "ann").await;
    admin.bind("team", "registry-viewer", "User", "bob").await;
    let path = "/apis/authorization.openshift.io/v1/namespaces/team/rolebindings/registry-viewer";
    let mut binding: Value = admin.get(path).await.json().await.unwrap();
    let subjects: Vec<Value> = binding["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] != "bob")
        .cloned()
        .collect();
    binding["subjects"] = Value::Array(subjects);
    let r = admin.send(reqwest::Method::PUT, path, Some(binding)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let after: Value = r.json().await.unwrap();
    assert_eq!(after["userNames"], serde_json::json!(["ann"]));
}
