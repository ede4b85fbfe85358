//! The `berth` client against a real server: the README's new-user flow end to end with podman,
//! login and logout, tokens, policy, and the errors that say what to do next.

use crate::support::tools::{available, private_store, run_owned, with, LowercaseDir};
use crate::support::{databases, Db, TestServer, ADMIN_PASSWORD};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `berth` as a client, with its own configuration directory.
struct Client {
    config_home: tempfile::TempDir,
}

impl Client {
    fn new() -> Client {
        Client {
            config_home: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(args)
            .env("XDG_CONFIG_HOME", self.config_home.path())
            .env_remove("BERTH_SERVER")
            .env_remove("BERTH_TOKEN")
            .stdin(Stdio::null())
            .output()
            .expect("run berth")
    }

    /// Runs and expects success; answers stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "berth {}: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Runs and expects failure; answers stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "berth {} succeeded", args.join(" "));
        String::from_utf8_lossy(&out.stderr).to_string()
    }

    fn config_file(&self) -> std::path::PathBuf {
        self.config_home.path().join("berth").join("config.yaml")
    }
}

/// The README's quick start: log in as the administrator, make a project and a service account
/// allowed to push there, hand its token to podman, push and pull.
#[tokio::test]
async fn the_readme_flow_pushes_and_pulls_with_a_service_account_token() {
    if !available("podman", &["--version"]) {
        return;
    }
    for db in databases() {
        let server = TestServer::start_secure(db);
        let c = Client::new();
        let out = c.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
        assert!(out.contains("Logged into"), "{out}");
        c.ok(&["new-project", "demo"]);
        c.ok(&["create", "serviceaccount", "pusher", "-n", "demo"]);
        c.ok(&[
            "policy",
            "add-role-to-user",
            "system:image-builder",
            "system:serviceaccount:demo:pusher",
            "-n",
            "demo",
        ]);
        let token = c.ok(&["create", "token", "serviceaccount/pusher", "-n", "demo"]);
        let token = token.trim();
        assert!(token.starts_with("sha256~"), "{token}");

        let tmp = LowercaseDir::new();
        let src = layout(&tmp.path().join("src"));
        let auth = tmp.path().join("auth.json").display().to_string();
        let mut pm = private_store(&tmp.path().join("podman"));
        pm.push("--events-backend=file".into());
        let name = format!("{}/demo/app:1", server.addr);
        let id = run_owned("podman", with(&pm, &["pull", "-q", &src])).stdout;
        let id = String::from_utf8_lossy(&id).trim().to_string();
        run_owned("podman", with(&pm, &["tag", &id, &name]));
        let login = |user: &str, secret: &str, store: &[String]| {
            run_owned(
                "podman",
                with(
                    store,
                    &[
                        "login",
                        "--tls-verify=false",
                        "--authfile",
                        &auth,
                        "-u",
                        user,
                        "-p",
                        secret,
                        &server.addr,
                    ],
                ),
            )
        };
        login("pusher", token, &pm);
        run_owned(
            "podman",
            with(
                &pm,
                &["push", "--tls-verify=false", "--authfile", &auth, &name],
            ),
        );
        // The administrator's own token, as `podman login -u anything -p $(berth whoami -t)`.
        let mine = c.ok(&["whoami", "-t"]);
        let mut fresh = private_store(&tmp.path().join("fresh"));
        fresh.push("--events-backend=file".into());
        login("anything", mine.trim(), &fresh);
        run_owned(
            "podman",
            with(
                &fresh,
                &[
                    "pull",
                    "-q",
                    "--tls-verify=false",
                    "--authfile",
                    &auth,
                    &name,
                ],
            ),
        );
        let tokens: Value =
            serde_json::from_str(&c.ok(&["get", "tokens", "-n", "demo", "-o", "json"])).unwrap();
        assert_eq!(tokens.as_array().unwrap().len(), 1, "{db:?}: {tokens}");
        assert_eq!(tokens[0]["user"], "system:serviceaccount:demo:pusher");
        let keys: Vec<&String> = tokens[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["created", "expires", "id", "user"]);
    }
}

fn layout(dir: &Path) -> String {
    let mut layout = crate::support::layout::Layout::create(dir);
    let image = layout.image(&[crate::support::layout::files(31, 2)], "amd64");
    layout.tag(&image, "1");
    format!("oci:{}:1", dir.display())
}

#[tokio::test]
async fn login_whoami_logout_and_the_config_file() {
    let server = TestServer::start_secure(Db::Sqlite);
    let c = Client::new();
    let err = c.fails(&["whoami"]);
    assert!(err.contains("not logged in: run berth login"), "{err}");
    let err = c.fails(&["login", &server.base, "-u", "a:b", "-p", "x"]);
    assert!(err.contains("':'"), "{err}");
    let err = c.fails(&["login", &server.base, "-u", "admin", "-p", "wrong"]);
    assert!(err.contains("login failed"), "{err}");
    c.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(c.config_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(c.ok(&["whoami"]).trim(), "admin");
    let token = c.ok(&["whoami", "-t"]).trim().to_string();
    // Another client logs in with that token.
    let other = Client::new();
    other.ok(&["login", &server.base, "--token", &token]);
    assert_eq!(other.ok(&["whoami"]).trim(), "admin");
    // Logging out revokes the token: the other client's session ends too.
    c.ok(&["logout"]);
    assert!(c.fails(&["whoami"]).contains("not logged in"));
    let err = other.fails(&["get", "projects"]);
    assert!(err.contains("berth login"), "{err}");
}

#[tokio::test]
async fn users_tokens_and_policy_through_the_client() {
    let server = TestServer::start_secure(Db::Sqlite);
    let admin = Client::new();
    admin.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
    admin.ok(&["new-project", "team"]);
    admin.ok(&["create", "user", "alice", "--password", "alice's password"]);
    let alice = Client::new();
    alice.ok(&[
        "login",
        &server.base,
        "-u",
        "alice",
        "-p",
        "alice's password",
    ]);
    assert!(alice
        .ok(&["get", "projects"])
        .contains("No resources found"));
    let err = alice.fails(&["get", "rolebindings", "-n", "team"]);
    assert!(err.contains("not found"), "{err}");
    admin.ok(&[
        "policy",
        "add-role-to-user",
        "registry-viewer",
        "alice",
        "-n",
        "team",
    ]);
    let projects = alice.ok(&["get", "projects"]);
    assert!(
        projects.contains("team") && projects.contains("STATUS"),
        "{projects}"
    );
    let bindings = admin.ok(&["get", "rolebindings", "-n", "team"]);
    assert!(
        bindings.contains("registry-viewer") && bindings.contains("alice"),
        "{bindings}"
    );
    admin.ok(&[
        "policy",
        "remove-role-from-user",
        "registry-viewer",
        "alice",
        "-n",
        "team",
    ]);
    assert!(alice
        .ok(&["get", "projects"])
        .contains("No resources found"));
    let err = alice.fails(&["create", "user", "mallory"]);
    assert!(err.contains("forbidden"), "{err}");
    // A token made by the administrator for alice, with a lifetime, shown in the list.
    let token = admin
        .ok(&["create", "token", "alice", "--duration", "2h"])
        .trim()
        .to_string();
    let listed: Value = serde_json::from_str(&admin.ok(&["get", "tokens", "-o", "json"])).unwrap();
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["user"] == "alice" && !t["expires"].is_null())
        .cloned()
        .expect("alice's token is listed with its expiry");
    assert!(!listed.to_string().contains("sha256~"));
    let via_token = Client::new();
    via_token.ok(&["login", &server.base, "--token", &token]);
    assert_eq!(via_token.ok(&["whoami"]).trim(), "alice");
    admin.ok(&["delete", "token", entry["id"].as_str().unwrap()]);
    assert!(via_token.fails(&["whoami"]).contains("berth login"));
    // Cluster roles.
    admin.ok(&[
        "adm",
        "policy",
        "add-cluster-role-to-user",
        "cluster-admin",
        "alice",
    ]);
    assert!(alice.ok(&["get", "users"]).contains("alice"));
    admin.ok(&[
        "adm",
        "policy",
        "remove-cluster-role-from-user",
        "cluster-admin",
        "alice",
    ]);
    assert!(alice.fails(&["get", "users"]).contains("forbidden"));
    admin.ok(&["delete", "project", "team"]);
    let err = admin.fails(&["get", "project", "team"]);
    assert!(err.contains("not found"), "{err}");
}

#[tokio::test]
async fn image_streams_through_the_client() {
    let server = TestServer::start_secure(Db::Sqlite);
    let c = Client::new();
    c.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
    c.ok(&["new-project", "team"]);
    let token = c.ok(&["whoami", "-t"]).trim().to_string();
    let reg = crate::support::access::registry_client(
        &server.base,
        Some(&token),
        &["repository:team/app:pull,push"],
    )
    .await;
    let image = crate::support::registry::Image::generated(77, 1);
    reg.push_image("team/app", "v1", &image).await;
    let table = c.ok(&["get", "is", "-n", "team"]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table.contains("app")
            && table.contains(&format!("{}/team/app", server.addr))
            && table.contains("v1"),
        "{table}"
    );
    let ist: Value =
        serde_json::from_str(&c.ok(&["get", "istag", "app:v1", "-n", "team", "-o", "json"]))
            .unwrap();
    assert_eq!(ist["image"]["metadata"]["name"], image.digest.as_str());
    assert!(c.ok(&["get", "images"]).contains(&image.digest));
    let err = c.fails(&["get", "is"]);
    assert!(err.contains("-n PROJECT"), "{err}");
}

#[tokio::test]
async fn tag_rollback_and_untag_through_the_client() {
    for db in crate::support::databases() {
        let server = TestServer::start_secure(db);
        let c = Client::new();
        c.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
        c.ok(&["new-project", "team"]);
        c.ok(&["new-project", "other"]);
        let token = c.ok(&["whoami", "-t"]).trim().to_string();
        let reg = crate::support::access::registry_client(
            &server.base,
            Some(&token),
            &[
                "repository:team/app:pull,push",
                "repository:other/copy:pull",
            ],
        )
        .await;
        let revisions: Vec<_> = (0..3)
            .map(|i| crate::support::registry::Image::generated(80 + i, 1))
            .collect();
        for image in &revisions {
            reg.push_image("team/app", "v1", image).await;
        }
        let history = |c: &Client| -> Vec<String> {
            let is: Value =
                serde_json::from_str(&c.ok(&["get", "is", "app", "-n", "team", "-o", "json"]))
                    .unwrap();
            is["status"]["tags"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["tag"] == "v1")
                .unwrap()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["image"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(history(&c).len(), 3, "{db:?}");
        let described = c.ok(&["describe", "is", "app", "-n", "team"]);
        assert!(
            described.contains("Image Repository:") && described.contains(&revisions[2].digest),
            "{described}"
        );
        assert_eq!(described.matches("generation").count(), 3, "{described}");
        assert!(
            described.contains(" KiB") || described.contains(" B,") || described.contains(" B\n"),
            "{described}"
        );
        // Rollback one revision: a fourth entry, pointing at the second push.
        c.ok(&["rollback", "app:v1", "-n", "team"]);
        let h = history(&c);
        assert_eq!(h.len(), 4, "{db:?}: {h:?}");
        assert_eq!(h[0], revisions[1].digest);
        let r = reg.get("/v2/team/app/manifests/v1").await;
        assert_eq!(r.bytes().await.unwrap(), revisions[1].manifest);
        c.ok(&[
            "rollback",
            "app:v1",
            "-n",
            "team",
            "--to",
            &revisions[0].digest,
        ]);
        assert_eq!(history(&c)[0], revisions[0].digest);
        assert!(c
            .fails(&["rollback", "app:v1", "-n", "team", "--to-revision", "9"])
            .contains("revisions"));
        // Tag within the stream and into another project: the registry serves it there.
        c.ok(&["tag", "app:v1", "app:prod", "-n", "team"]);
        assert!(reg.tags("team/app").await.contains(&"prod".to_string()));
        c.ok(&[
            "tag",
            &format!("app@{}", revisions[2].digest),
            "other/copy:v1",
            "-n",
            "team",
        ]);
        let r = reg.get("/v2/other/copy/manifests/v1").await;
        assert_eq!(r.bytes().await.unwrap(), revisions[2].manifest, "{db:?}");
        let layer = crate::support::registry::sha256(&revisions[2].layers[0]);
        let r = reg.get(&format!("/v2/other/copy/blobs/{layer}")).await;
        assert_eq!(
            r.status(),
            reqwest::StatusCode::OK,
            "{db:?}: the copied tag's blobs are served"
        );
        // Untag.
        c.ok(&["tag", "-d", "app:prod", "-n", "team"]);
        assert!(!reg.tags("team/app").await.contains(&"prod".to_string()));
        assert!(c
            .fails(&["tag", "-d", "app:prod", "-n", "team"])
            .contains("not found"));
        // A viewer may not tag.
        c.ok(&["create", "user", "vic", "--password", "vic-password"]);
        c.ok(&[
            "policy",
            "add-role-to-user",
            "registry-viewer",
            "vic",
            "-n",
            "team",
        ]);
        let v = Client::new();
        v.ok(&["login", &server.base, "-u", "vic", "-p", "vic-password"]);
        assert!(v
            .fails(&["tag", "app:v1", "app:vic", "-n", "team"])
            .contains("forbidden"));
        assert!(v
            .fails(&["tag", "app:v1", "other/x:y", "-n", "team"])
            .contains("not found"));
    }
}
