//! `?watch=true` on image streams and images: existing objects first, then each change in
//! order, from any replica; resuming from a resourceVersion; 410 for a version the log no longer
//! has; and nothing of a project shown to a watcher who may not see it.

use crate::support::access::{registry_client, Api};
use crate::support::registry::Image;
use crate::support::{databases, Db, Setup, Store, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const API: &str = "/apis/image.openshift.io/v1";

/// Reads newline-delimited events from a watch response.
struct Watcher {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Watcher {
    async fn open(api: &Api, path: &str) -> Watcher {
        let response = api.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "watch {path}");
        Watcher {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, or `None` when none comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).expect("an event is JSON"));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.extend_from_slice(&bytes),
                _ => return None,
            }
        }
    }

    /// Events until `done` holds for one (included), failing after 20 s.
    async fn until(&mut self, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let e = self
                .next(Duration::from_secs(20))
                .await
                .unwrap_or_else(|| panic!("the watch went quiet; got {events:#?}"));
            let stop = done(&e);
            events.push(e);
            if stop {
                return events;
            }
        }
    }
}

fn version(e: &Value) -> i64 {
    e["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a numeric resourceVersion")
}

fn history_len(e: &Value, tag: &str) -> usize {
    e["object"]["status"]["tags"]
        .as_array()
        .and_then(|t| t.iter().find(|x| x["tag"] == tag))
        .and_then(|t| t["items"].as_array())
        .map(Vec::len)
        .unwrap_or(0)
}

async fn watch_changes_across(a: &TestServer, b: &TestServer, label: &str) {
    let admin_a = Api::admin(a).await;
    admin_a.create_project("team").await;
    admin_a.create_project("other").await;
    let admin_b = Api::admin(b).await;
    let reg_b = registry_client(
        &b.base,
        Some(&admin_b.token),
        &[
            "repository:team/app:pull,push",
            "repository:other/x:pull,push",
        ],
    )
    .await;
    let outsider_token = admin_a.user_with_token("mallory").await;
    let outsider = Api::with_token(&a.base, &outsider_token);

    // A project watch on replica A; pushes through replica B.
    let mut streams = Watcher::open(
        &admin_a,
        &format!("{API}/namespaces/team/imagestreams?watch=true"),
    )
    .await;
    let mut images = Watcher::open(&admin_a, &format!("{API}/images?watch=1")).await;
    let mut everything = Watcher::open(&outsider, &format!("{API}/imagestreams?watch=true")).await;
    let pushed: Vec<Image> = (0..3).map(|i| Image::generated(400 + i, 1)).collect();
    for image in &pushed {
        reg_b.push_image("team/app", "v1", image).await;
    }
    let events = streams.until(|e| history_len(e, "v1") == 3).await;
    assert_eq!(events[0]["type"], "ADDED", "{label}: {events:#?}");
    assert_eq!(events[0]["object"]["metadata"]["name"], "app");
    let modified = events.iter().filter(|e| e["type"] == "MODIFIED").count();
    assert!(
        modified >= 3,
        "{label}: one MODIFIED per new revision: {events:#?}"
    );
    let versions: Vec<i64> = events.iter().map(version).collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "{label}: in order: {versions:?}"
    );
    // Each event shows the history as of its change.
    let lens: Vec<usize> = events.iter().map(|e| history_len(e, "v1")).collect();
    assert_eq!(lens, vec![0, 1, 2, 3], "{label}");
    // No event for a project this watch is not about.
    reg_b.push_image("other/x", "1", &pushed[0]).await;

    // Every new image, once.
    let mut added = Vec::new();
    while added.len() < 3 {
        let e = images
            .next(Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("{label}: images watch went quiet after {added:?}"));
        assert_eq!(e["type"], "ADDED");
        added.push(
            e["object"]["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let want: Vec<String> = pushed.iter().map(|i| i.digest.clone()).collect();
    assert_eq!(added, want, "{label}");

    // Deleting the stream is seen too, and nothing of `other` came in between.
    assert_eq!(
        admin_b
            .delete(&format!("{API}/namespaces/team/imagestreams/app"))
            .await
            .status(),
        StatusCode::OK
    );
    let rest = streams.until(|e| e["type"] == "DELETED").await;
    assert!(
        rest.iter()
            .all(|e| e["object"]["metadata"]["namespace"] == "team"),
        "{rest:#?}"
    );

    // The outsider's watch across projects saw nothing of projects it may not see.
    assert!(
        everything.next(Duration::from_millis(800)).await.is_none(),
        "{label}"
    );
    // And a watch on the project itself is refused as if it did not exist.
    let r = outsider
        .get(&format!("{API}/namespaces/team/imagestreams?watch=true"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Resuming from a version repeats what came after it, starting with the next change.
    let from = version(&events[0]);
    let mut resumed = Watcher::open(
        &admin_a,
        &format!("{API}/namespaces/team/imagestreams?watch=true&resourceVersion={from}"),
    )
    .await;
    let again = resumed.until(|e| e["type"] == "DELETED").await;
    assert!(again.iter().all(|e| version(e) > from), "{label}");
    assert_eq!(
        again.len(),
        events.len() - 1 + rest.len(),
        "{label}: {again:#?}"
    );
}

#[tokio::test]
async fn watches_see_changes_in_order_through_any_replica() {
    // One server on SQLite; two replicas on one PostgreSQL database.
    let single = TestServer::start_secure(Db::Sqlite);
    watch_changes_across(&single, &single, "sqlite").await;
    if databases().contains(&Db::Postgres) {
        let a = TestServer::start_setup_with(
            &Setup {
                db: Db::Postgres,
                store: Store::Filesystem,
            },
            true,
            "",
        );
        let b = a.replica();
        watch_changes_across(&a, &b, "two replicas").await;
    }
}

#[tokio::test]
async fn a_watch_lists_first_and_ends_on_timeout_or_an_expired_version() {
    let server = TestServer::start_secure(Db::Sqlite);
    let admin = Api::admin(&server).await;
    admin.create_project("team").await;
    let reg = registry_client(
        &server.base,
        Some(&admin.token),
        &["repository:team/app:pull,push"],
    )
    .await;
    reg.push_image("team/app", "v1", &Image::generated(450, 1))
        .await;
    // Without a resourceVersion, existing streams come first as ADDED; timeoutSeconds ends it.
    let mut w = Watcher::open(
        &admin,
        &format!("{API}/namespaces/team/imagestreams?watch=true&timeoutSeconds=1"),
    )
    .await;
    let first = w
        .next(Duration::from_secs(5))
        .await
        .expect("an ADDED event");
    assert_eq!(first["type"], "ADDED");
    assert_eq!(history_len(&first, "v1"), 1);
    assert!(
        w.next(Duration::from_secs(5)).await.is_none(),
        "ended by timeoutSeconds"
    );
    // The older watch path is the same watch.
    let mut w = Watcher::open(
        &admin,
        &format!("{API}/watch/namespaces/team/imagestreams?timeoutSeconds=1"),
    )
    .await;
    let first = w
        .next(Duration::from_secs(5))
        .await
        .expect("an ADDED event");
    assert_eq!(first["type"], "ADDED");
    // A version from before the kept log: one ERROR event with 410 Expired.
    let mut w = Watcher::open(
        &admin,
        &format!("{API}/namespaces/team/imagestreams?watch=true&resourceVersion=-1"),
    )
    .await;
    let e = w
        .next(Duration::from_secs(5))
        .await
        .expect("an ERROR event");
    assert_eq!(e["type"], "ERROR");
    assert_eq!(e["object"]["code"], 410);
    assert_eq!(e["object"]["reason"], "Expired");
    // Malformed parameters are refused.
    for q in [
        "resourceVersion=abc",
        "timeoutSeconds=soon",
        "labelSelector=a%20in%20b",
    ] {
        let r = admin
            .get(&format!(
                "{API}/namespaces/team/imagestreams?watch=true&{q}"
            ))
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
    }
    // YAML is not applied to a watch stream: it stays JSON lines.
    let r = admin
        .http
        .get(format!(
            "{}{API}/namespaces/team/imagestreams?watch=true&timeoutSeconds=1",
            server.base
        ))
        .bearer_auth(&admin.token)
        .header("accept", "application/yaml")
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    let line = text.lines().next().unwrap_or_default();
    assert!(serde_json::from_str::<Value>(line).is_ok(), "{text}");
    // Deleting the project deletes its streams, and a watch across projects is told.
    let list: Value = admin
        .get(&format!("{API}/imagestreams"))
        .await
        .json()
        .await
        .unwrap();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut all = Watcher::open(
        &admin,
        &format!("{API}/imagestreams?watch=true&resourceVersion={rv}"),
    )
    .await;
    let r = admin
        .delete("/apis/project.openshift.io/v1/projects/team")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let e = all
        .next(Duration::from_secs(10))
        .await
        .expect("a DELETED event");
    assert_eq!(e["type"], "DELETED");
    assert_eq!(e["object"]["metadata"]["namespace"], "team");
    assert_eq!(e["object"]["metadata"]["name"], "app");
}

#[tokio::test]
async fn a_selector_watch_sees_streams_start_and_stop_matching_and_watches_are_capped() {
    let server = TestServer::start_secure(Db::Sqlite);
    let admin = Api::admin(&server).await;
    admin.create_project("team").await;
    let streams = format!("{API}/namespaces/team/imagestreams");
    let r = admin
        .post(
            &streams,
            serde_json::json!({"metadata": {"name": "app", "labels": {"tier": "web"}}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut w = Watcher::open(
        &admin,
        &format!("{streams}?watch=true&labelSelector=tier%3Dweb"),
    )
    .await;
    let e = w
        .next(Duration::from_secs(5))
        .await
        .expect("the matching stream");
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("app"))
    );
    let relabel = |tier: &'static str| {
        let body = serde_json::json!({"metadata": {"labels": {"tier": tier}}});
        let api = &admin;
        let path = format!("{streams}/app");
        async move {
            api.send(reqwest::Method::PATCH, &path, Some(body))
                .await
                .status()
        }
    };
    assert_eq!(relabel("db").await, StatusCode::OK);
    let e = w
        .next(Duration::from_secs(5))
        .await
        .expect("stops matching");
    assert_eq!(e["type"], "DELETED");
    let r = admin
        .post(&streams, serde_json::json!({"metadata": {"name": "other"}}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(relabel("web").await, StatusCode::OK);
    let e = w.next(Duration::from_secs(5)).await.expect("matches again");
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("app"))
    );
    assert_eq!(
        admin.delete(&format!("{streams}/other")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        admin.delete(&format!("{streams}/app")).await.status(),
        StatusCode::OK
    );
    let e = w.next(Duration::from_secs(5)).await.expect("deleted");
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("DELETED"), Some("app"))
    );
    assert!(
        w.next(Duration::from_millis(700)).await.is_none(),
        "nothing of the unlabelled stream"
    );
    drop(w);

    // One caller may hold only so many watches open; closing one frees its place.
    let mut open = Vec::new();
    let refused = loop {
        let r = admin.get(&format!("{streams}?watch=true")).await;
        if r.status() != StatusCode::OK {
            break r;
        }
        open.push(r);
        assert!(open.len() <= 64, "no limit");
    };
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(open.len() >= 60, "{} watches", open.len());
    open.clear();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let r = admin
            .get(&format!("{streams}?watch=true&timeoutSeconds=1"))
            .await;
        if r.status() == StatusCode::OK {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "places were not given back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
