//! Notifications: a webhook receiver on loopback gets Distribution's envelope for push, pull,
//! mount and delete; ignored actions and media types are honoured; events wait through a
//! receiver that fails, hangs or is not there yet, without slowing pushes; with two replicas
//! each event reaches each endpoint once; delivery state shows in the API and the client.

use crate::support::access::{registry_client, Api};
use crate::support::registry::{Image, Registry};
use crate::support::webhook::{Mode, Receiver};
use crate::support::{databases, Db, Setup, Store, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const OCTET: &str = "application/octet-stream";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn endpoint_yaml(name: &str, url: &str, extra: &str) -> String {
    format!("  - name: {name}\n    url: {url}\n{extra}")
}

fn config(endpoints: &[String]) -> String {
    format!("notifications:\n  endpoints:\n{}", endpoints.join(""))
}

fn actions(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["target"]["mediaType"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn push_pull_mount_and_delete_reach_the_receiver_in_distributions_envelope() {
    for db in databases() {
        let hook = Receiver::start().await;
        let quiet = Receiver::start().await;
        let yaml = config(&[
            endpoint_yaml(
                "hook",
                &hook.url(),
                "    headers: {X-Token: [s3cret]}\n    timeout: 2s\n    threshold: 3\n    backoff: 200ms\n",
            ),
            endpoint_yaml(
                "quiet",
                &quiet.url(),
                "    ignoredmediatypes: [application/octet-stream]\n    ignore: {actions: [pull, delete]}\n",
            ),
        ]);
        let server = TestServer::start_setup_with(
            &Setup {
                db,
                store: Store::Filesystem,
            },
            true,
            &yaml,
        );
        let admin = Api::admin(&server).await;
        admin.create_project("team").await;
        let reg = registry_client(
            &server.base,
            Some(&admin.token),
            &[
                "repository:team/app:pull,push,delete",
                "repository:team/copy:pull,push",
            ],
        )
        .await;
        let image = Image::generated(700, 1);
        reg.push_image("team/app", "v1", &image).await;
        let blobs: Vec<String> = image
            .blobs()
            .map(|b| crate::support::registry::sha256(b))
            .collect();

        // The push: one event per blob, then the manifest's, each in its own envelope.
        let events = hook
            .wait_for(Duration::from_secs(15), |e| e.len() > blobs.len())
            .await;
        let pushed = &events[blobs.len()];
        assert_eq!(pushed["action"], "push", "{db:?}: {events:#?}");
        let t = &pushed["target"];
        assert_eq!(t["mediaType"], OCI_MANIFEST);
        assert_eq!(t["digest"], image.digest.as_str());
        assert_eq!(t["size"], image.manifest.len());
        assert_eq!(t["length"], image.manifest.len());
        assert_eq!(t["repository"], "team/app");
        assert_eq!(t["tag"], "v1");
        assert_eq!(
            t["url"],
            format!(
                "http://{}/v2/team/app/manifests/{}",
                server.addr, image.digest
            )
        );
        assert!(!pushed["id"].as_str().unwrap().is_empty());
        assert!(humantime::parse_rfc3339(pushed["timestamp"].as_str().unwrap()).is_ok());
        let r = &pushed["request"];
        assert!(!r["id"].as_str().unwrap().is_empty());
        assert!(r["addr"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert_eq!(r["host"], server.addr.as_str());
        assert_eq!(r["method"], "PUT");
        assert!(r.get("useragent").is_some());
        assert_eq!(pushed["actor"]["name"], "admin");
        assert!(!pushed["source"]["instanceID"].as_str().unwrap().is_empty());
        assert!(pushed["source"]["addr"]
            .as_str()
            .unwrap()
            .ends_with(&server.addr.split(':').nth(1).unwrap().to_string()));
        for (e, digest) in events.iter().zip(&blobs) {
            assert_eq!(e["action"], "push");
            assert_eq!(e["target"]["mediaType"], OCTET);
            assert_eq!(&e["target"]["digest"], digest.as_str());
            assert_eq!(e["target"]["repository"], "team/app");
        }
        let request = &hook.requests()[0];
        assert_eq!(
            request.headers["content-type"],
            "application/vnd.docker.distribution.events.v1+json"
        );
        assert_eq!(request.headers["x-token"], "s3cret");
        assert_eq!(request.body["events"].as_array().unwrap().len(), 1);

        // Pulls: a HEAD and a GET of the manifest by tag, and a blob (HEAD is a pull too, as in
        // Distribution).
        assert_eq!(
            reg.head("/v2/team/app/manifests/v1").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            reg.get("/v2/team/app/manifests/v1").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            reg.get(&format!("/v2/team/app/blobs/{}", blobs[0]))
                .await
                .status(),
            StatusCode::OK
        );
        // A mount into another stream, then a delete.
        let r = reg
            .http
            .post(reg.url(&format!(
                "/v2/team/copy/blobs/uploads/?mount={}&from=team/app",
                blobs[0]
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = reg
            .delete(&format!("/v2/team/app/manifests/{}", image.digest))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let events = hook
            .wait_for(Duration::from_secs(15), |e| e.len() >= blobs.len() + 6)
            .await;
        let rest = &events[blobs.len() + 1..];
        assert_eq!(
            actions(rest),
            vec![
                ("pull".into(), OCI_MANIFEST.into()),
                ("pull".into(), OCI_MANIFEST.into()),
                ("pull".into(), OCTET.into()),
                ("mount".into(), OCTET.into()),
                ("delete".into(), String::new()),
            ],
            "{rest:#?}"
        );
        assert_eq!(rest[0]["target"]["tag"], "v1");
        assert_eq!(rest[0]["request"]["method"], "HEAD");
        assert_eq!(rest[1]["request"]["method"], "GET");
        assert_eq!(rest[3]["target"]["fromRepository"], "team/app");
        assert_eq!(rest[3]["target"]["repository"], "team/copy");
        assert_eq!(rest[4]["target"]["digest"], image.digest.as_str());
        assert_eq!(rest[4]["target"]["repository"], "team/app");
        let ids: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), events.len(), "every event has its own id");

        // The quiet endpoint ignores blobs, pulls and deletes: it got the manifest push only.
        let q = quiet
            .wait_for(Duration::from_secs(10), |e| !e.is_empty())
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let q2 = quiet.delivered();
        assert_eq!(
            actions(&q2),
            vec![("push".into(), OCI_MANIFEST.into())],
            "{q:#?}"
        );
        assert_eq!(
            q2[0]["id"], pushed["id"],
            "one event, the same id for every endpoint"
        );

        // Delivery state, for cluster administrators only.
        let list: Value = admin
            .get("/apis/registry.berth.io/v1/notifications?endpoint=quiet")
            .await
            .json()
            .await
            .unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{list}");
        assert_eq!(items[0]["status"]["state"], "Delivered");
        assert_eq!(items[0]["action"], "push");
        assert_eq!(items[0]["tag"], "v1");
        let user = Api::with_token(&server.base, &admin.user_with_token("nosy").await);
        let r = user.get("/apis/registry.berth.io/v1/notifications").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = admin
            .get("/apis/registry.berth.io/v1/notifications?continue=%%%")
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn events_wait_for_a_receiver_that_fails_hangs_or_is_not_there_and_pushes_do_not() {
    let mut hook = Receiver::not_listening().await;
    let yaml = config(&[endpoint_yaml(
        "hook",
        &hook.url(),
        "    timeout: 300ms\n    threshold: 2\n    backoff: 300ms\n",
    )]);
    let server = TestServer::start_setup_with(
        &Setup {
            db: Db::Sqlite,
            store: Store::Filesystem,
        },
        false,
        &yaml,
    );
    let reg = Registry::new(&server.base);
    // Nobody listens: the push is not held up, and the event waits.
    reg.push_image("p/app", "1", &Image::generated(710, 1))
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let api = reqwest::Client::new();
    // Newest first: the first push's first blob is the last item.
    let state = |body: &Value| {
        body["items"]
            .as_array()
            .and_then(|items| items.last())
            .map(|i| i["status"].clone())
            .unwrap_or(Value::Null)
    };
    let list: Value = api
        .get(server.url("/apis/registry.berth.io/v1/notifications"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state(&list)["state"], "Failing", "{list}");
    assert!(
        state(&list)["lastError"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{list}"
    );
    // Listening, but failing: still retried.
    hook.listen().await;
    hook.set_mode(Mode::Fail);
    let deadline = Instant::now() + Duration::from_secs(10);
    while hook.requests().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(hook.requests().len() >= 2, "retried after failures");
    assert!(hook.delivered().is_empty());
    // Hanging: a push still completes at once.
    hook.set_mode(Mode::Hang);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    let second = Image::generated(711, 1);
    reg.push_image("p/app", "2", &second).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "push took {:?}",
        started.elapsed()
    );
    // Back: everything arrives, in order, the first push's events before the second's.
    hook.set_mode(Mode::Accept);
    let events = hook
        .wait_for(Duration::from_secs(20), |e| {
            e.iter().any(|x| x["target"]["tag"] == "2")
        })
        .await;
    let tags: Vec<&str> = events
        .iter()
        .filter_map(|e| e["target"]["tag"].as_str())
        .collect();
    assert_eq!(tags, vec!["1", "2"], "{events:#?}");
    assert_eq!(
        events.len(),
        6,
        "two blobs and a manifest per push: {events:#?}"
    );
    assert!(
        events.iter().all(|e| e["actor"].get("name").is_none()),
        "anonymous"
    );
}

#[tokio::test]
async fn with_two_replicas_each_event_reaches_each_endpoint_once() {
    if !databases().contains(&Db::Postgres) {
        return;
    }
    let a_hook = Receiver::start().await;
    let b_hook = Receiver::start().await;
    let yaml = config(&[
        endpoint_yaml("a", &a_hook.url(), ""),
        endpoint_yaml("b", &b_hook.url(), "    ignore: {actions: [pull]}\n"),
    ]);
    let first = TestServer::start_setup_with(
        &Setup {
            db: Db::Postgres,
            store: Store::Filesystem,
        },
        false,
        &yaml,
    );
    let second = first.replica();
    let regs = [Registry::new(&first.base), Registry::new(&second.base)];
    let images: Vec<Image> = (0..6).map(|i| Image::generated(720 + i, 1)).collect();
    for (i, image) in images.iter().enumerate() {
        let reg = &regs[i % 2];
        reg.push_image("p/app", &format!("t{i}"), image).await;
        assert_eq!(
            regs[(i + 1) % 2]
                .get(&format!("/v2/p/app/manifests/t{i}"))
                .await
                .status(),
            StatusCode::OK
        );
    }
    // Per image: two blobs and a manifest pushed, and one manifest pulled.
    let want_a = images.len() * 4;
    let want_b = images.len() * 3;
    a_hook
        .wait_for(Duration::from_secs(20), |e| e.len() >= want_a)
        .await;
    b_hook
        .wait_for(Duration::from_secs(20), |e| e.len() >= want_b)
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for (hook, want) in [(&a_hook, want_a), (&b_hook, want_b)] {
        let events = hook.delivered();
        let ids: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(events.len(), want, "{events:#?}");
        assert_eq!(ids.len(), want, "no event twice");
        let sources: HashSet<&str> = events
            .iter()
            .map(|e| e["source"]["instanceID"].as_str().unwrap())
            .collect();
        assert_eq!(sources.len(), 2, "events come from both replicas");
    }
}

#[tokio::test]
async fn bad_notification_settings_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("berth.yaml");
    for (yaml, says) in [
        (
            "notifications:\n  endpoints:\n  - name: a\n    url: ftp://x\n",
            "http",
        ),
        (
            "notifications:\n  endpoints:\n  - url: http://x\n",
            "no name",
        ),
        (
            "notifications:\n  endpoints:\n  - name: a\n    url: http://x\n    backoff: later\n",
            "duration",
        ),
        (
            "notifications:\n  endpoints:\n  - name: a\n    url: http://x\n    colour: red\n",
            "colour",
        ),
    ] {
        std::fs::write(&file, yaml).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(["check-config", "--config", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{yaml}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{yaml}: {err}");
    }
}

#[tokio::test]
async fn image_change_triggers_fire_when_the_tags_image_changes() {
    let hook = Receiver::start().await;
    let server = TestServer::start_secure(Db::Sqlite);
    let admin = Api::admin(&server).await;
    admin.create_project("team").await;
    let triggers = "/apis/registry.berth.io/v1/namespaces/team/imagechangetriggers";
    let spec = |from: &str, url: &str| {
        serde_json::json!({"metadata": {"name": "deploy"},
            "spec": {"from": {"kind": "ImageStreamTag", "name": from}, "url": url, "headers": {"X-Hook": "1"}}})
    };
    let r = admin.post(triggers, spec("app:prod", &hook.url())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = admin.post(triggers, spec("app:prod", &hook.url())).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "the name is taken");
    let reg = registry_client(
        &server.base,
        Some(&admin.token),
        &["repository:team/app:pull,push"],
    )
    .await;
    let images: Vec<Image> = (0..3).map(|i| Image::generated(740 + i, 1)).collect();

    // A push onto the tag fires; the same image again does not; other tags do not.
    reg.push_image("team/app", "prod", &images[0]).await;
    let requests = hook.wait_for_requests(Duration::from_secs(10), 1).await;
    let first = &requests[0];
    assert_eq!(first.headers["x-hook"], "1");
    let payload = &first.body;
    assert_eq!(payload["kind"], "ImageChangeTrigger", "{payload}");
    assert_eq!(payload["name"], "deploy");
    assert_eq!(payload["namespace"], "team");
    assert_eq!(payload["imageStreamTag"], "app:prod");
    assert_eq!(payload["image"], images[0].digest.as_str());
    assert_eq!(
        payload["dockerImageReference"],
        format!("{}/team/app@{}", server.addr, images[0].digest)
    );
    reg.push_image("team/app", "prod", &images[0]).await;
    reg.push_image("team/app", "v2", &images[1]).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        hook.requests().len(),
        1,
        "no firing without a change of prod"
    );

    // Tagging onto it and rolling it back fire too.
    let istag = "/apis/image.openshift.io/v1/namespaces/team/imagestreamtags/app:prod";
    for image in [&images[1], &images[0]] {
        let from = serde_json::json!({"tag": {"from": {"kind": "ImageStreamImage", "name": format!("app@{}", image.digest)}}});
        let r = admin.send(reqwest::Method::PUT, istag, Some(from)).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let requests = hook.wait_for_requests(Duration::from_secs(10), 3).await;
    let fired: Vec<&str> = requests
        .iter()
        .map(|r| r.body["image"].as_str().unwrap())
        .collect();
    assert_eq!(
        fired,
        vec![
            images[0].digest.as_str(),
            images[1].digest.as_str(),
            images[0].digest.as_str()
        ]
    );
    // The status follows once the deliverer recorded the answer.
    let deadline = Instant::now() + Duration::from_secs(5);
    let t = loop {
        let t: Value = admin
            .get(&format!("{triggers}/deploy"))
            .await
            .json()
            .await
            .unwrap();
        if t["status"]["lastTriggeredImage"] == images[0].digest.as_str()
            || Instant::now() > deadline
        {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        t["status"]["lastTriggeredImage"],
        images[0].digest.as_str(),
        "{t}"
    );
    assert_eq!(t["spec"]["from"]["name"], "app:prod");
    assert_eq!(
        t["spec"]["headers"]["X-Hook"], "<hidden>",
        "values may be credentials"
    );

    // Viewers read triggers; only those who may push make them; outsiders see nothing.
    let viewer = Api::with_token(&server.base, &admin.user_with_token("vic").await);
    admin.bind("team", "view", "User", "vic").await;
    assert_eq!(viewer.get(triggers).await.status(), StatusCode::OK);
    assert_eq!(
        viewer
            .post(triggers, spec("app:x", &hook.url()))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let outsider = Api::with_token(&server.base, &admin.user_with_token("out").await);
    assert_eq!(outsider.get(triggers).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        outsider
            .post(triggers, spec("app:x", &hook.url()))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    for bad in [
        serde_json::json!({"metadata": {"name": "b"}, "spec": {"from": {"name": "nocolon"}, "url": hook.url()}}),
        serde_json::json!({"metadata": {"name": "b"}, "spec": {"from": {"name": "app:x"}, "url": "ftp://x"}}),
        serde_json::json!({"metadata": {"name": "b"}, "spec": {"from": {"name": "app:x"}}}),
        serde_json::json!({"metadata": {"name": "b"}, "spec": {"from": {"kind": "DockerImage", "name": "app:x"}, "url": hook.url()}}),
        serde_json::json!({"metadata": {"name": "b"}, "spec": {"from": {"name": "app:x", "namespace": "other"}, "url": hook.url()}}),
        serde_json::json!({"metadata": {"name": "b"}, "spec": {"from": {"name": "app:x"}, "url": hook.url(), "headers": {"bad header": "x"}}}),
        serde_json::json!({"metadata": {"name": "Bad_Name"}, "spec": {"from": {"name": "app:x"}, "url": hook.url()}}),
    ] {
        let r = admin.post(triggers, bad.clone()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // The client makes and lists them; a deleted trigger fires no more.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(args)
            .env("BERTH_SERVER", &server.base)
            .env("BERTH_TOKEN", &admin.token)
            .env("XDG_CONFIG_HOME", tempfile::tempdir().unwrap().path())
            .output()
            .unwrap()
    };
    let out = cli(&[
        "create",
        "trigger",
        "notify",
        "--from",
        "app:v2",
        "--url",
        &hook.url(),
        "-n",
        "team",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&["get", "triggers", "-n", "team"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("deploy") && table.contains("notify") && table.contains("app:prod"),
        "{table}"
    );
    assert_eq!(
        admin.delete(&format!("{triggers}/deploy")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        admin.delete(&format!("{triggers}/notify")).await.status(),
        StatusCode::OK
    );
    reg.push_image("team/app", "prod", &images[2]).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(hook.requests().len(), 3);
}

/// A real client's push and pull produce Distribution's events: skopeo copies an image in and
/// inspects it.
#[tokio::test]
async fn a_skopeo_push_and_inspect_produce_push_and_pull_events() {
    use crate::support::layout::{files, Layout};
    use crate::support::tools::{available, run};
    if !available("skopeo", &["--version"]) {
        return;
    }
    let hook = Receiver::start().await;
    let server = TestServer::start_setup_with(
        &Setup {
            db: Db::Sqlite,
            store: Store::Filesystem,
        },
        false,
        &config(&[endpoint_yaml("hook", &hook.url(), "")]),
    );
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let mut layout = Layout::create(&src);
    let image = layout.image(&[files(61, 2)], "amd64");
    layout.tag(&image, "1");
    let dest = format!("docker://{}/e2e/app:1", server.addr);
    run(
        "skopeo",
        &[
            "copy",
            "--dest-tls-verify=false",
            &format!("oci:{}:1", src.display()),
            &dest,
        ],
    );
    let events = hook
        .wait_for(Duration::from_secs(15), |e| {
            e.iter()
                .any(|x| x["action"] == "push" && x["target"]["tag"] == "1")
        })
        .await;
    let manifest = events.iter().find(|x| x["target"]["tag"] == "1").unwrap();
    assert_eq!(manifest["target"]["repository"], "e2e/app");
    let agent = manifest["request"]["useragent"]
        .as_str()
        .unwrap_or_default();
    assert!(!agent.is_empty(), "the client's User-Agent: {manifest}");
    assert_eq!(manifest["request"]["method"], "PUT");
    let blobs = events
        .iter()
        .filter(|x| x["action"] == "push" && x["target"]["mediaType"] == OCTET)
        .count();
    assert_eq!(blobs, 2, "a layer and a configuration: {events:#?}");
    run("skopeo", &["inspect", "--tls-verify=false", &dest]);
    hook.wait_for(Duration::from_secs(15), |e| {
        e.iter()
            .any(|x| x["action"] == "pull" && x["target"]["repository"] == "e2e/app")
    })
    .await;
}
