//! Image streams and images as API resources, made by pushing: tag history newest first, the
//! same digest pushed again adds nothing, images with their layers and configuration, paging,
//! and nothing of a project shown to a caller who may not see it.

use crate::support::access::{basic, registry_client, Api};
use crate::support::registry::{sha256, Image, Registry};
use crate::support::{databases, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

const IS: &str = "/apis/image.openshift.io/v1/namespaces";

#[tokio::test]
async fn pushes_make_image_streams_with_history_newest_first() {
    for db in databases() {
        let server = TestServer::start_secure(db);
        let admin = Api::admin(&server).await;
        admin.create_project("team").await;
        let reg = registry_client(
            &server.base,
            Some(&admin.token),
            &[
                "repository:team/app:pull,push",
                "repository:team/other:pull,push",
            ],
        )
        .await;
        let revisions: Vec<Image> = (0..3).map(|i| Image::generated(40 + i, 2)).collect();
        for image in &revisions {
            reg.push_image("team/app", "v1", image).await;
        }
        // The same digest again adds no revision.
        reg.push_image("team/app", "v1", &revisions[2]).await;
        reg.push_image("team/app", "stable", &revisions[0]).await;
        reg.push_image("team/other", "latest", &revisions[1]).await;

        let is: Value = admin
            .get(&format!("{IS}/team/imagestreams/app"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(is["kind"], "ImageStream", "{db:?}: {is}");
        assert_eq!(is["metadata"]["name"], "app");
        assert_eq!(is["metadata"]["namespace"], "team");
        let repo = is["status"]["dockerImageRepository"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(repo, format!("{}/team/app", server.addr));
        let tags = is["status"]["tags"].as_array().unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[1]["tag"], "v1");
        let items = tags[1]["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "{db:?}: {items:?}");
        for (item, image) in items.iter().zip(revisions.iter().rev()) {
            assert_eq!(item["image"], image.digest.as_str());
            assert_eq!(
                item["dockerImageReference"],
                format!("{repo}@{}", image.digest)
            );
        }
        assert_eq!(items[0]["generation"], 3);
        assert_eq!(items[2]["generation"], 1);

        // Paging through the project's streams.
        let page: Value = admin
            .get(&format!("{IS}/team/imagestreams?limit=1"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let token = page["metadata"]["continue"]
            .as_str()
            .expect("a continue token")
            .to_string();
        let rest: Value = admin
            .get(&format!("{IS}/team/imagestreams?limit=1&continue={token}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rest["items"][0]["metadata"]["name"], "other");

        // The image stream tag and the image: layers, configuration, size.
        let ist: Value = admin
            .get(&format!("{IS}/team/imagestreamtags/app:v1"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(ist["kind"], "ImageStreamTag");
        let image = &ist["image"];
        let newest = &revisions[2];
        assert_eq!(image["metadata"]["name"], newest.digest.as_str());
        assert_eq!(image["dockerImageMetadata"]["Architecture"], "amd64");
        assert_eq!(image["dockerImageMetadata"]["Os"], "linux");
        let layers = image["dockerImageLayers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[0]["name"], sha256(&newest.layers[0]).as_str());
        let total: usize = newest.manifest.len()
            + newest.config.len()
            + newest.layers.iter().map(Vec::len).sum::<usize>();
        assert_eq!(image["dockerImageMetadata"]["Size"], total as i64);
        let by_digest: Value = admin
            .get(&format!(
                "/apis/image.openshift.io/v1/images/{}",
                newest.digest
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            by_digest["dockerImageManifestMediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        let all: Value = admin
            .get("/apis/image.openshift.io/v1/images")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 3);
        assert_eq!(
            admin
                .get(&format!("{IS}/team/imagestreamtags/app:nope"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            admin
                .get(&format!("{IS}/team/imagestreams/nope"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );

        // A user without rights sees nothing of the project; a puller sees its images only.
        let outsider = Api::with_token(&server.base, &admin.user_with_token("outsider").await);
        for path in [
            format!("{IS}/team/imagestreams"),
            format!("{IS}/team/imagestreams/app"),
            format!("{IS}/team/imagestreamtags/app:v1"),
            format!("/apis/image.openshift.io/v1/images/{}", newest.digest),
        ] {
            assert_eq!(
                outsider.get(&path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let none: Value = outsider
            .get("/apis/image.openshift.io/v1/images")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(none["items"], serde_json::json!([]));
        let puller_token = admin.user_with_token("puller").await;
        admin
            .bind("team", "system:image-puller", "User", "puller")
            .await;
        let puller = Api::with_token(&server.base, &puller_token);
        assert_eq!(
            puller
                .get(&format!(
                    "/apis/image.openshift.io/v1/images/{}",
                    newest.digest
                ))
                .await
                .status(),
            StatusCode::OK
        );
        // And the registry still serves what the API describes.
        let direct = Registry::authorized(&server.base, &basic("x", &puller_token));
        assert_eq!(
            direct
                .get(&format!("/v2/team/app/manifests/{}", newest.digest))
                .await
                .status(),
            StatusCode::OK
        );
    }
}

/// API resources in YAML: answers with `Accept: application/yaml`, and YAML request bodies.
#[tokio::test]
async fn resources_speak_yaml_too() {
    let server = TestServer::start_secure(crate::support::Db::Sqlite);
    let admin = Api::admin(&server).await;
    let r = admin
        .http
        .post(server.url("/apis/project.openshift.io/v1/projects"))
        .bearer_auth(&admin.token)
        .header("content-type", "application/yaml")
        .header("accept", "application/yaml")
        .body("metadata:\n  name: yaml-made\n  labels: {team: a}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["content-type"], "application/yaml");
    let created: Value = serde_yaml_ng::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(created["metadata"]["labels"]["team"], "a");
    let json: Value = admin
        .get("/apis/project.openshift.io/v1/projects/yaml-made")
        .await
        .json()
        .await
        .unwrap();
    let r = admin
        .http
        .get(server.url("/apis/project.openshift.io/v1/projects/yaml-made"))
        .bearer_auth(&admin.token)
        .header("accept", "application/yaml")
        .send()
        .await
        .unwrap();
    let yaml: Value = serde_yaml_ng::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(yaml, json);
    // A broken YAML body is a 400 Status, in YAML.
    let r = admin
        .http
        .post(server.url("/apis/project.openshift.io/v1/projects"))
        .bearer_auth(&admin.token)
        .header("content-type", "application/yaml")
        .header("accept", "application/yaml")
        .body("metadata: [unclosed\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let status: Value = serde_yaml_ng::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "BadRequest");
}

/// Pushes of one tag racing through two replicas on one PostgreSQL database leave one history:
/// every revision once, generations without gaps or repeats, and the tag at the newest.
#[tokio::test]
async fn concurrent_pushes_of_one_tag_through_two_replicas_leave_one_history() {
    if !crate::support::databases().contains(&crate::support::Db::Postgres) {
        return;
    }
    let setup = crate::support::Setup {
        db: crate::support::Db::Postgres,
        store: crate::support::Store::Filesystem,
    };
    let a = TestServer::start_setup_with(&setup, true, "");
    let b = a.replica();
    let admin = Api::admin(&a).await;
    admin.create_project("race").await;
    let scopes = ["repository:race/app:pull,push"];
    let reg_a = registry_client(&a.base, Some(&admin.token), &scopes).await;
    let reg_b = registry_client(&b.base, Some(&admin.token), &scopes).await;
    let images: Vec<Image> = (0..12).map(|i| Image::generated(600 + i, 1)).collect();
    for image in &images {
        for blob in image.blobs() {
            reg_a.push_blob("race/app", blob).await;
        }
    }
    let pushes = images.iter().enumerate().map(|(i, image)| {
        let reg = if i % 2 == 0 { &reg_a } else { &reg_b };
        async move {
            let r = reg
                .put_manifest_raw(
                    "race/app",
                    "v1",
                    "application/vnd.oci.image.manifest.v1+json",
                    &image.manifest,
                )
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
        }
    });
    futures::future::join_all(pushes).await;
    let is: Value = admin
        .get(&format!("{IS}/race/imagestreams/app"))
        .await
        .json()
        .await
        .unwrap();
    let items = is["status"]["tags"][0]["items"].as_array().unwrap();
    assert_eq!(items.len(), images.len(), "{is}");
    let generations: Vec<i64> = items
        .iter()
        .map(|i| i["generation"].as_i64().unwrap())
        .collect();
    let want: Vec<i64> = (1..=images.len() as i64).rev().collect();
    assert_eq!(generations, want);
    let mut seen: Vec<&str> = items.iter().map(|i| i["image"].as_str().unwrap()).collect();
    seen.sort();
    let mut pushed: Vec<&str> = images.iter().map(|i| i.digest.as_str()).collect();
    pushed.sort();
    assert_eq!(seen, pushed);
    for reg in [&reg_a, &reg_b] {
        let r = reg.head("/v2/race/app/manifests/v1").await;
        assert_eq!(
            r.headers()["docker-content-digest"],
            items[0]["image"].as_str().unwrap()
        );
    }
}
