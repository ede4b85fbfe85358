//! Image streams as full API resources: object metadata, updates with optimistic concurrency
//! (409 on a stale resourceVersion), merge and JSON patches, label selectors, spec tags (copies,
//! aliases that follow their source, pull specs of this registry and of others), mappings,
//! tag deletion reaching the registry's tag list, and callers without rights seeing nothing.

use crate::support::access::{registry_client, Api};
use crate::support::registry::{Image, Registry};
use crate::support::{databases, Setup, Store, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const API: &str = "/apis/image.openshift.io/v1";

async fn send(api: &Api, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let r = api.send(method, path, body).await;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn tag_items<'a>(is: &'a Value, tag: &str) -> Vec<&'a Value> {
    is["status"]["tags"]
        .as_array()
        .and_then(|t| t.iter().find(|x| x["tag"] == tag))
        .and_then(|t| t["items"].as_array())
        .map(|items| items.iter().collect())
        .unwrap_or_default()
}

async fn pusher(server: &TestServer, admin: &Api, repos: &[&str]) -> Registry {
    let scopes: Vec<String> = repos
        .iter()
        .map(|r| format!("repository:{r}:pull,push"))
        .collect();
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    registry_client(&server.base, Some(&admin.token), &scopes).await
}

#[tokio::test]
async fn updates_conflict_on_a_stale_resource_version_and_patches_merge() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        admin.create_project("team").await;
        let reg = pusher(&server, &admin, &["team/app"]).await;
        reg.push_image("team/app", "v1", &Image::generated(300, 1))
            .await;
        let path = format!("{API}/namespaces/team/imagestreams/app");
        let (status, is) = send(&admin, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{db:?}: {is}");
        let rv1 = is["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(rv1.parse::<i64>().unwrap() > 0, "{rv1}");
        assert!(!is["metadata"]["uid"].as_str().unwrap().is_empty());
        assert_eq!(is["metadata"]["generation"], 1);
        assert_eq!(is["spec"]["lookupPolicy"]["local"], false);
        assert!(is["status"].get("publicDockerImageRepository").is_none());

        // An update based on what was read succeeds and moves the resourceVersion on.
        let mut edit = is.clone();
        edit["metadata"]["labels"] = json!({"app": "web", "tier": "front"});
        let (status, updated) = send(&admin, Method::PUT, &path, Some(edit.clone())).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        let rv2 = updated["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(rv2.parse::<i64>().unwrap() > rv1.parse::<i64>().unwrap());
        assert_eq!(updated["metadata"]["labels"]["app"], "web");
        assert_eq!(tag_items(&updated, "v1").len(), 1, "status is kept");

        // The same update again, still based on the old version: 409, and nothing changes.
        edit["metadata"]["labels"] = json!({"app": "lost"});
        let (status, s) = send(&admin, Method::PUT, &path, Some(edit)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{s}");
        assert_eq!(s["kind"], "Status");
        assert_eq!(s["reason"], "Conflict");
        let (_, now) = send(&admin, Method::GET, &path, None).await;
        assert_eq!(now["metadata"]["labels"]["app"], "web");
        assert_eq!(now["metadata"]["resourceVersion"], rv2.as_str());

        // A merge patch changes only what it names.
        let (status, patched) = send(
            &admin,
            Method::PATCH,
            &path,
            Some(
                json!({"metadata": {"annotations": {"owner": "team-a"}, "labels": {"tier": null}}}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        assert_eq!(patched["metadata"]["annotations"]["owner"], "team-a");
        assert_eq!(patched["metadata"]["labels"], json!({"app": "web"}));
        // A patch carrying a stale resourceVersion conflicts.
        let (status, _) = send(
            &admin,
            Method::PATCH,
            &path,
            Some(json!({"metadata": {"resourceVersion": rv1, "labels": {"x": "y"}}})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        // A JSON patch (RFC 6902) too.
        let (status, patched) = send(
            &admin,
            Method::PATCH,
            &path,
            Some(json!([{"op": "add", "path": "/metadata/labels/tier", "value": "back"}])),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        assert_eq!(patched["metadata"]["labels"]["tier"], "back");
        // Bad updates change nothing.
        for (body, want) in [
            (
                json!({"metadata": {"name": "other"}}),
                StatusCode::BAD_REQUEST,
            ),
            (
                json!({"metadata": {"labels": {"bad key!": "x"}}}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"metadata": {"resourceVersion": "abc"}}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"spec": {"tags": [{"name": "a"}, {"name": "a"}]}}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"spec": {"tags": [{"name": "x", "from": {"kind": "Pod", "name": "p"}}]}}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!([{"op": "test", "path": "/metadata/name", "value": "nope"}]),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (json!("text"), StatusCode::BAD_REQUEST),
        ] {
            let (status, s) = send(&admin, Method::PATCH, &path, Some(body.clone())).await;
            assert_eq!(status, want, "{body}: {s}");
            assert_eq!(s["kind"], "Status", "{body}");
        }
        let (_, after) = send(&admin, Method::GET, &path, None).await;
        assert_eq!(
            after["metadata"]["resourceVersion"],
            patched["metadata"]["resourceVersion"]
        );

        // Label selectors, in a project and across projects.
        admin.create_project("ops").await;
        let (status, _) = send(
            &admin,
            Method::POST,
            &format!("{API}/namespaces/ops/imagestreams"),
            Some(json!({"metadata": {"name": "db", "labels": {"app": "db"}}})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let names = |v: &Value| -> Vec<String> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    format!(
                        "{}/{}",
                        i["metadata"]["namespace"].as_str().unwrap(),
                        i["metadata"]["name"].as_str().unwrap()
                    )
                })
                .collect()
        };
        for (selector, want) in [
            ("app%3Dweb", vec!["team/app"]),
            ("app%20in%20(web%2Cdb)", vec!["ops/db", "team/app"]),
            ("app!%3Dweb", vec!["ops/db"]),
            ("!app", vec![]),
            ("tier", vec!["team/app"]),
        ] {
            let (status, list) = send(
                &admin,
                Method::GET,
                &format!("{API}/imagestreams?labelSelector={selector}"),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{selector}: {list}");
            assert_eq!(names(&list), want, "{selector}");
            assert!(list["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .is_ok());
        }
        for (selector, want) in [
            ("metadata.name%3Ddb", vec!["ops/db"]),
            ("metadata.namespace!%3Dops", vec!["team/app"]),
            (
                "metadata.name%3D%3Dapp%2Cmetadata.namespace%3Dteam",
                vec!["team/app"],
            ),
        ] {
            let (status, list) = send(
                &admin,
                Method::GET,
                &format!("{API}/imagestreams?fieldSelector={selector}"),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{selector}: {list}");
            assert_eq!(names(&list), want, "{selector}");
        }
        for bad in [
            "labelSelector=a%20in%20b",
            "fieldSelector=spec.x%3D1",
            "fieldSelector=name",
        ] {
            let (status, s) = send(
                &admin,
                Method::GET,
                &format!("{API}/namespaces/team/imagestreams?{bad}"),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {s}");
        }

        // Someone without rights in the project can neither read nor change it.
        let outsider = Api::with_token(&server.base, &admin.user_with_token("eve").await);
        for (method, body) in [
            (Method::GET, None),
            (
                Method::PUT,
                Some(json!({"metadata": {"labels": {"x": "y"}}})),
            ),
            (
                Method::PATCH,
                Some(json!({"metadata": {"labels": {"x": "y"}}})),
            ),
            (Method::DELETE, None),
        ] {
            let (status, _) = send(&outsider, method.clone(), &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        }
        let (_, all) = send(&outsider, Method::GET, &format!("{API}/imagestreams"), None).await;
        assert_eq!(all["items"], json!([]));
        let (_, still) = send(&admin, Method::GET, &path, None).await;
        assert!(still["metadata"]["labels"].get("x").is_none());
    }
}

#[tokio::test]
async fn spec_tags_copy_alias_and_record_other_registries() {
    for db in databases() {
        let server = TestServer::start_setup_with(
            &Setup {
                db,
                store: Store::Filesystem,
            },
            true,
            "publicHostname: registry.example.com",
        );
        let admin = Api::admin(&server).await;
        admin.create_project("team").await;
        let reg = pusher(&server, &admin, &["team/app", "team/mapped"]).await;
        let images: Vec<Image> = (0..3).map(|i| Image::generated(310 + i, 1)).collect();
        reg.push_image("team/app", "v1", &images[0]).await;
        let istag = |name: &str| format!("{API}/namespaces/team/imagestreamtags/{name}");
        let put = |name: &str, from: Value| {
            let api = &admin;
            let path = istag(name);
            async move {
                send(
                    api,
                    Method::PUT,
                    &path,
                    Some(json!({"tag": {"from": from}})),
                )
                .await
            }
        };
        // An alias follows its source; a copy stays.
        let (status, v) = put(
            "app:latest",
            json!({"kind": "ImageStreamTag", "name": "app:v1"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{db:?}: {v}");
        assert_eq!(v["image"]["metadata"]["name"], images[0].digest.as_str());
        let (status, v) = put(
            "app:pinned",
            json!({"kind": "ImageStreamImage", "name": format!("app@{}", images[0].digest)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        reg.push_image("team/app", "v1", &images[1]).await;
        let (_, is) = send(
            &admin,
            Method::GET,
            &format!("{API}/namespaces/team/imagestreams/app"),
            None,
        )
        .await;
        assert_eq!(
            tag_items(&is, "latest")[0]["image"],
            images[1].digest.as_str(),
            "{is}"
        );
        assert_eq!(tag_items(&is, "latest").len(), 2);
        assert_eq!(tag_items(&is, "pinned").len(), 1);
        assert_eq!(
            tag_items(&is, "pinned")[0]["image"],
            images[0].digest.as_str()
        );
        assert_eq!(
            is["status"]["publicDockerImageRepository"],
            "registry.example.com/team/app"
        );
        let spec_tags = is["spec"]["tags"].as_array().unwrap();
        assert_eq!(spec_tags.len(), 2, "{is}");
        assert!(is["metadata"]["generation"].as_i64().unwrap() >= 3);
        // The registry serves what the spec tags point at.
        let r = reg.get("/v2/team/app/manifests/latest").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["docker-content-digest"],
            images[1].digest.as_str()
        );

        // A pull spec of this registry is resolved here; one of another registry is recorded
        // with a condition and no image.
        let (status, v) = put(
            "app:local",
            json!({"kind": "DockerImage", "name": format!("{}/team/app:v1", server.addr)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["image"]["metadata"]["name"], images[1].digest.as_str());
        let (status, v) = put(
            "app:ext",
            json!({"kind": "DockerImage", "name": "quay.io/example/tool:1"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let (_, is) = send(
            &admin,
            Method::GET,
            &format!("{API}/namespaces/team/imagestreams/app"),
            None,
        )
        .await;
        let ext = is["status"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == "ext")
            .cloned()
            .expect("a status entry for ext");
        assert_eq!(ext["items"], json!([]));
        assert_eq!(ext["conditions"][0]["type"], "ImportSuccess");
        assert_eq!(ext["conditions"][0]["status"], "False");

        // Bad references change nothing.
        for (name, from, want) in [
            (
                "app:x",
                json!({"kind": "ImageStreamImage", "name": "app@sha256:nope"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "app:x",
                json!({"kind": "ImageStreamImage", "name": format!("app@sha256:{}", "0".repeat(64))}),
                StatusCode::NOT_FOUND,
            ),
            (
                "app:x",
                json!({"kind": "ImageStreamTag", "name": "no-colon"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "app:x",
                json!({"kind": "ImageStreamTag", "name": "app:x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "app:bad tag",
                json!({"kind": "ImageStreamTag", "name": "app:v1"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "noseparator",
                json!({"kind": "ImageStreamTag", "name": "app:v1"}),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let (status, s) = put(name, from.clone()).await;
            assert_eq!(status, want, "{name} {from}: {s}");
        }
        let (_, unchanged) = send(
            &admin,
            Method::GET,
            &format!("{API}/namespaces/team/imagestreams/app"),
            None,
        )
        .await;
        assert_eq!(
            unchanged["metadata"]["resourceVersion"],
            is["metadata"]["resourceVersion"]
        );

        // A mapping records an image the caller may pull into a stream, under a tag.
        let (status, s) = send(
            &admin,
            Method::POST,
            &format!("{API}/namespaces/team/imagestreammappings"),
            Some(json!({"metadata": {"name": "mapped"}, "image": {"metadata": {"name": images[0].digest}}, "tag": "m"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{s}");
        let r = reg.get("/v2/team/mapped/manifests/m").await;
        assert_eq!(r.status(), StatusCode::OK);
        let (status, _) = send(
            &admin,
            Method::POST,
            &format!("{API}/namespaces/team/imagestreammappings"),
            Some(json!({"metadata": {"name": "mapped"}, "image": {"metadata": {"name": format!("sha256:{}", "1".repeat(64))}}, "tag": "m"})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Deleting a tag removes it from the spec, the status and the registry; an alias of it
        // no longer follows.
        let r = admin.delete(&istag("app:latest")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(!reg.tags("team/app").await.contains(&"latest".to_string()));
        reg.push_image("team/app", "v1", &images[2]).await;
        let (_, is) = send(
            &admin,
            Method::GET,
            &format!("{API}/namespaces/team/imagestreams/app"),
            None,
        )
        .await;
        assert!(tag_items(&is, "latest").is_empty());
        assert!(!is["spec"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "latest"));
        let r = admin.delete(&istag("app:latest")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_public_hostname_must_be_a_host() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("berth.yaml");
    std::fs::write(&config, "publicHostname: https://registry.example.com/x\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["serve", "--config", config.to_str().unwrap(), "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("publicHostname"), "{err}");
}

#[tokio::test]
async fn images_take_labels_with_conflicts_and_delete_from_every_stream() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        admin.create_project("team").await;
        let reg = pusher(&server, &admin, &["team/app", "team/other"]).await;
        let image = Image::generated(330, 1);
        reg.push_image("team/app", "v1", &image).await;
        reg.push_image("team/other", "v2", &image).await;
        let path = format!("{API}/images/{}", image.digest);
        let (status, v) = send(&admin, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{db:?}: {v}");
        let rv = v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(v["metadata"]["labels"], json!({}));

        let (status, v) = send(
            &admin,
            Method::PATCH,
            &path,
            Some(json!({"metadata": {"labels": {"tier": "gold"}}})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["metadata"]["labels"]["tier"], "gold");
        assert_ne!(v["metadata"]["resourceVersion"], rv.as_str());
        let stale = json!({"metadata": {"resourceVersion": rv, "labels": {}}});
        let (status, _) = send(&admin, Method::PUT, &path, Some(stale)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        for (selector, n) in [("tier%3Dgold", 1), ("tier%3Dsilver", 0)] {
            let (_, list) = send(
                &admin,
                Method::GET,
                &format!("{API}/images?labelSelector={selector}"),
                None,
            )
            .await;
            assert_eq!(list["items"].as_array().unwrap().len(), n, "{selector}");
        }

        // An editor of the project reads the image but may neither relabel nor delete it.
        let editor = Api::with_token(&server.base, &admin.user_with_token("ed").await);
        admin.bind("team", "edit", "User", "ed").await;
        assert_eq!(
            send(&editor, Method::GET, &path, None).await.0,
            StatusCode::OK
        );
        let (status, _) = send(
            &editor,
            Method::PATCH,
            &path,
            Some(json!({"metadata": {"labels": {"tier": "x"}}})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            send(&editor, Method::DELETE, &path, None).await.0,
            StatusCode::FORBIDDEN
        );

        // Deleting the image removes it from both streams and their tags.
        assert_eq!(
            send(&admin, Method::DELETE, &path, None).await.0,
            StatusCode::OK
        );
        assert_eq!(
            send(&admin, Method::GET, &path, None).await.0,
            StatusCode::NOT_FOUND
        );
        for (repo, tag) in [("team/app", "v1"), ("team/other", "v2")] {
            let r = reg.get(&format!("/v2/{repo}/manifests/{tag}")).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{repo}:{tag}");
            assert!(reg.tags(repo).await.is_empty());
        }
        assert_eq!(
            send(&admin, Method::DELETE, &path, None).await.0,
            StatusCode::NOT_FOUND
        );
    }
}

/// Tags written onto one stream at the same time all land in its spec: each write is based on
/// the stream as it was read, and retried when something changed it meanwhile.
#[tokio::test]
async fn concurrent_tag_writes_onto_one_stream_lose_nothing() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        admin.create_project("team").await;
        let reg = pusher(&server, &admin, &["team/app"]).await;
        let image = Image::generated(340, 1);
        reg.push_image("team/app", "v1", &image).await;
        let writes = (0..10).map(|i| {
            let api = &admin;
            let path = format!("{API}/namespaces/team/imagestreamtags/copy:t{i}");
            let from = json!({"kind": "ImageStreamImage", "name": format!("app@{}", image.digest)});
            async move {
                send(
                    api,
                    Method::PUT,
                    &path,
                    Some(json!({"tag": {"from": from}})),
                )
                .await
            }
        });
        for (status, v) in futures::future::join_all(writes).await {
            assert_eq!(status, StatusCode::OK, "{db:?}: {v}");
        }
        let (_, is) = send(
            &admin,
            Method::GET,
            &format!("{API}/namespaces/team/imagestreams/copy"),
            None,
        )
        .await;
        assert_eq!(
            is["spec"]["tags"].as_array().unwrap().len(),
            10,
            "{db:?}: {is}"
        );
        assert_eq!(is["status"]["tags"].as_array().unwrap().len(), 10);
        let deletes = (0..10).map(|i| {
            let api = &admin;
            let path = format!("{API}/namespaces/team/imagestreamtags/copy:t{i}");
            async move { send(api, Method::DELETE, &path, None).await.0 }
        });
        for status in futures::future::join_all(deletes).await {
            assert_eq!(status, StatusCode::OK, "{db:?}");
        }
        let (_, is) = send(
            &admin,
            Method::GET,
            &format!("{API}/namespaces/team/imagestreams/copy"),
            None,
        )
        .await;
        assert_eq!(is["spec"]["tags"], json!([]), "{db:?}: {is}");
        assert_eq!(is["status"]["tags"], json!([]));
    }
}

#[tokio::test]
async fn patches_follow_their_content_type_and_tags_list_and_create_as_a_collection() {
    let server = TestServer::start_secure(crate::support::Db::Sqlite);
    let admin = Api::admin(&server).await;
    admin.create_project("team").await;
    admin.create_project("other").await;
    let reg = pusher(&server, &admin, &["team/app", "other/lib"]).await;
    let image = Image::generated(350, 1);
    reg.push_image("team/app", "v1", &image).await;
    reg.push_image("other/lib", "v1", &image).await;
    let from_image = json!({"kind": "ImageStreamImage", "name": format!("app@{}", image.digest)});
    for tag in ["a", "b"] {
        let (status, _) = send(
            &admin,
            Method::PUT,
            &format!("{API}/namespaces/team/imagestreamtags/app:{tag}"),
            Some(json!({"tag": {"from": from_image}})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let path = format!("{API}/namespaces/team/imagestreams/app");
    let patch = |content_type: &'static str, body: Value| {
        let request = admin
            .http
            .patch(format!("{}{path}", server.base))
            .bearer_auth(&admin.token)
            .header("content-type", content_type)
            .body(body.to_string());
        async move {
            let r = request.send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // kubectl's default: a strategic merge patch adds a spec tag and keeps the others.
    let (status, is) = patch(
        "application/strategic-merge-patch+json",
        json!({"spec": {"tags": [{"name": "c", "from": {"kind": "ImageStreamTag", "name": "app:v1"}}]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{is}");
    let names: Vec<&str> = is["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    // A merge patch replaces the list.
    let (status, is) = patch(
        "application/merge-patch+json",
        json!({"spec": {"tags": [{"name": "a", "from": from_image}]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(is["spec"]["tags"].as_array().unwrap().len(), 1);
    for (content_type, body, want) in [
        (
            "application/apply-patch+yaml",
            json!({}),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/json-patch+json",
            json!({"spec": {}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/merge-patch+json",
            json!([]),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(patch(content_type, body).await.0, want, "{content_type}");
    }
    // An alias stays in its project; a copy may come from another one the caller may pull.
    let (status, s) = send(
        &admin,
        Method::PUT,
        &format!("{API}/namespaces/team/imagestreamtags/app:x"),
        Some(json!({"tag": {"from": {"kind": "ImageStreamTag", "name": "lib:v1", "namespace": "other"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{s}");
    // The project's image stream tags as a collection: listed, and created by POST.
    let (status, created) = send(
        &admin,
        Method::POST,
        &format!("{API}/namespaces/team/imagestreamtags"),
        Some(json!({"metadata": {"name": "app:d"}, "tag": {"from": from_image}})),
    )
    .await;
    assert!(status.is_success(), "{created}");
    let (status, list) = send(
        &admin,
        Method::GET,
        &format!("{API}/namespaces/team/imagestreamtags"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["kind"], "ImageStreamTagList");
    let mut names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["app:a", "app:b", "app:c", "app:d", "app:v1"]);
}

/// Control characters (PostgreSQL cannot even store NUL) in paths, parameters and references are
/// refused with a clear error, on both databases, and change nothing.
#[tokio::test]
async fn control_characters_anywhere_are_refused_cleanly() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        admin.create_project("team").await;
        let reg = pusher(&server, &admin, &["team/app"]).await;
        reg.push_image("team/app", "v1", &Image::generated(360, 1))
            .await;
        for path in [
            format!("{API}/namespaces/te%00am/imagestreams"),
            format!("{API}/namespaces/team/imagestreams/app%01"),
            format!("{API}/namespaces/team/imagestreams?labelSelector=a%3D%00"),
            format!("{API}/namespaces/team/imagestreams?fieldSelector=metadata.name%3D%00"),
            format!("{API}/images?continue=%00"),
            "/apis/registry.berth.io/v1/notifications?endpoint=%00".to_string(),
        ] {
            let (status, s) = send(&admin, Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{db:?} {path}: {s}");
            assert_eq!(s["kind"], "Status");
        }
        for from in [
            json!({"kind": "ImageStreamTag", "name": "app:v\u{0}1"}),
            json!({"kind": "ImageStreamTag", "name": "app:v1", "namespace": "te\u{0}am"}),
            json!({"kind": "ImageStreamImage", "name": "app@sha256:\u{0}"}),
            json!({"kind": "DockerImage", "name": format!("{}/team/app:\u{0}", server.addr)}),
        ] {
            let (status, s) = send(
                &admin,
                Method::PUT,
                &format!("{API}/namespaces/team/imagestreamtags/app:x"),
                Some(json!({"tag": {"from": from}})),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{db:?} {from}: {s}"
            );
        }
        let (_, is) = send(
            &admin,
            Method::GET,
            &format!("{API}/namespaces/team/imagestreams/app"),
            None,
        )
        .await;
        assert_eq!(is["status"]["tags"].as_array().unwrap().len(), 1, "{is}");
    }
}
