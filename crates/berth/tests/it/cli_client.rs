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

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.args(args)
            .env("XDG_CONFIG_HOME", self.config_home.path())
            .env_remove("BERTH_SERVER")
            .env_remove("BERTH_TOKEN")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run berth")
    }

    /// Runs with `input` on standard input (not a terminal).
    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run berth");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait for berth")
    }

    /// Runs and expects failure with `code`; answers stderr.
    fn fails_with(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "berth {}: {err}",
            args.join(" ")
        );
        assert!(
            out.stdout.is_empty(),
            "berth {}: stdout on failure",
            args.join(" ")
        );
        err
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
        // What podman pushed is an image stream with one revision, over the CLI and the API.
        let is: Value =
            serde_json::from_str(&c.ok(&["get", "is", "app", "-n", "demo", "-o", "json"])).unwrap();
        assert_eq!(is["status"]["tags"][0]["tag"], "1", "{db:?}: {is}");
        let items = is["status"]["tags"][0]["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        let digest = items[0]["image"].as_str().unwrap().to_string();
        let described = c.ok(&["describe", "is", "app", "-n", "demo"]);
        assert!(described.contains(&digest), "{described}");
        let image: Value =
            serde_json::from_str(&c.ok(&["get", "images", &digest, "-o", "json"])).unwrap();
        assert_eq!(
            image["dockerImageLayers"].as_array().unwrap().len(),
            1,
            "{image}"
        );
        assert_eq!(
            image["dockerImageMetadata"]["Config"]["Labels"]["built-by"],
            "berth-tests"
        );
        assert_eq!(image["dockerImageMetadata"]["Architecture"], "amd64");
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

/// A service account's token, from creation to revocation: listed without its secret, usable at
/// once, refused at once after `berth delete token`.
#[tokio::test]
async fn service_account_tokens_are_listed_without_secrets_and_revoked() {
    let server = TestServer::start_secure(Db::Sqlite);
    let admin = Client::new();
    admin.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
    assert_eq!(
        admin.ok(&["new-project", "team", "-o", "name"]),
        "project/team\n"
    );
    let out = admin.ok(&["create", "serviceaccount", "ci", "-n", "team"]);
    assert_eq!(out, "serviceaccount \"ci\" created\n");
    let sa: Value =
        serde_json::from_str(&admin.ok(&["get", "sa", "ci", "-n", "team", "-o", "json"])).unwrap();
    assert_eq!(sa["kind"], "ServiceAccount");
    assert_eq!(sa["metadata"]["namespace"], "team");
    // Only the token on stdout, so that TOKEN=$(berth create token …) works.
    let out = admin.ok(&[
        "create",
        "token",
        "serviceaccount/ci",
        "-n",
        "team",
        "--duration",
        "30d",
    ]);
    let token = out.trim_end_matches('\n');
    assert!(
        token.starts_with("sha256~") && !token.contains('\n'),
        "{out:?}"
    );
    let sa_client = Client::new();
    let out = sa_client.ok(&["login", &server.base, "--token", token]);
    assert_eq!(
        out,
        format!(
            "Logged into \"{}\" as \"system:serviceaccount:team:ci\".\n",
            server.base
        )
    );
    assert_eq!(
        sa_client.ok(&["whoami"]).trim(),
        "system:serviceaccount:team:ci"
    );
    assert_eq!(sa_client.ok(&["whoami", "-t"]).trim(), token);

    let json = admin.ok(&["get", "tokens", "-n", "team", "-o", "json"]);
    assert!(!json.contains("sha256~"), "{json}");
    let list: Value = serde_json::from_str(&json).unwrap();
    let list = list.as_array().expect("a JSON list");
    assert_eq!(list.len(), 1, "{json}");
    let keys: Vec<&String> = list[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["created", "expires", "id", "user"]);
    assert_eq!(list[0]["user"], "system:serviceaccount:team:ci");
    let expires = list[0]["expires"].as_str().expect("an expiry");
    let created = list[0]["created"].as_str().unwrap();
    let lifetime = humantime::parse_rfc3339(expires)
        .unwrap()
        .duration_since(humantime::parse_rfc3339(created).unwrap())
        .unwrap();
    assert_eq!(lifetime.as_secs(), 30 * 86_400);
    let id = list[0]["id"].as_str().unwrap();
    let table = admin.ok(&["get", "tokens", "-n", "team"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["ID", "USER", "CREATED", "EXPIRES"], "{table}");
    assert!(table.contains(id) && !table.contains("sha256~"), "{table}");

    let out = admin.ok(&["delete", "token", id]);
    assert!(out.contains(id), "{out}");
    let err = sa_client.fails_with(1, &["whoami"]);
    assert!(err.contains("berth login"), "{err}");
    assert!(admin
        .ok(&["get", "tokens", "-n", "team"])
        .contains("No resources found"));
    let err = admin.fails_with(1, &["delete", "token", id]);
    assert!(err.contains("not found"), "{err}");
    // Too short a lifetime, or no project for a service account: usage errors, nothing sent.
    admin.fails_with(2, &["create", "token", "alice", "--duration", "0s"]);
    admin.fails_with(2, &["create", "token", "alice", "--duration", "soon"]);
    let err = admin.fails_with(2, &["create", "token", "serviceaccount/ci"]);
    assert!(err.contains("-n PROJECT"), "{err}");
}

/// Projects through the client: the table, YAML as the server sent it, delete.
#[tokio::test]
async fn projects_are_created_listed_and_deleted() {
    let server = TestServer::start_secure(Db::Sqlite);
    let c = Client::new();
    c.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
    assert_eq!(
        c.ok(&["new-project", "alpha"]),
        "project \"alpha\" created\n"
    );
    c.ok(&["new-project", "a-much-longer-name"]);
    let table = c.ok(&["get", "projects"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0], "NAME                DISPLAY NAME  STATUS",
        "{table}"
    );
    assert!(
        lines.contains(&"alpha                             Active"),
        "{table}"
    );
    let yaml: Value =
        serde_yaml_ng::from_str(&c.ok(&["get", "project", "alpha", "-o", "yaml"])).expect("YAML");
    assert_eq!(yaml["kind"], "Project");
    assert_eq!(
        yaml["metadata"]["annotations"]["openshift.io/requester"],
        "admin"
    );
    let names = c.ok(&["get", "projects", "-o", "name"]);
    assert!(names.contains("project/alpha\n"), "{names}");
    let err = c.fails_with(1, &["new-project", "alpha"]);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(
        c.ok(&["delete", "project", "alpha"]),
        "project \"alpha\" deleted\n"
    );
    assert!(!c.ok(&["get", "projects"]).contains("alpha "));
    let err = c.fails_with(1, &["delete", "project", "alpha"]);
    assert!(err.contains("not found"), "{err}");
}

/// Group bindings in a project and cluster-wide, and what removing a missing subject says.
#[tokio::test]
async fn group_roles_are_added_and_removed() {
    let server = TestServer::start_secure(Db::Sqlite);
    let c = Client::new();
    c.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
    c.ok(&["new-project", "pub"]);
    assert_eq!(anonymous_tags(&server).await, 401);
    let binding = |c: &Client, role: &str| -> Value {
        serde_json::from_str(&c.ok(&["get", "rolebinding", role, "-n", "pub", "-o", "json"]))
            .unwrap()
    };
    c.ok(&[
        "policy",
        "add-role-to-group",
        "system:image-puller",
        "system:unauthenticated",
        "-n",
        "pub",
    ]);
    c.ok(&[
        "policy",
        "add-role-to-user",
        "system:image-puller",
        "system:serviceaccount:pub:robot",
        "-n",
        "pub",
    ]);
    let b = binding(&c, "system:image-puller");
    assert_eq!(
        b["groupNames"],
        serde_json::json!(["system:unauthenticated"])
    );
    assert_eq!(
        b["userNames"],
        serde_json::json!(["system:serviceaccount:pub:robot"])
    );
    // Anonymous callers may now pull from the project (no such repository, rather than 401).
    assert_eq!(anonymous_tags(&server).await, 404);
    c.ok(&[
        "policy",
        "remove-role-from-group",
        "system:image-puller",
        "system:unauthenticated",
        "-n",
        "pub",
    ]);
    assert_eq!(anonymous_tags(&server).await, 401);
    let b = binding(&c, "system:image-puller");
    assert_eq!(b["groupNames"], serde_json::json!([]));
    assert_eq!(
        b["userNames"],
        serde_json::json!(["system:serviceaccount:pub:robot"])
    );
    let err = c.fails_with(
        1,
        &[
            "policy",
            "remove-role-from-group",
            "system:image-puller",
            "system:unauthenticated",
            "-n",
            "pub",
        ],
    );
    assert!(err.contains("does not have role"), "{err}");
    c.ok(&[
        "policy",
        "remove-role-from-user",
        "system:image-puller",
        "system:serviceaccount:pub:robot",
        "-n",
        "pub",
    ]);
    let err = c.fails_with(
        1,
        &["get", "rolebinding", "system:image-puller", "-n", "pub"],
    );
    assert!(err.contains("not found"), "{err}");
    // A user name with ':' that is not a service account never reaches the server.
    let err = c.fails_with(
        2,
        &["policy", "add-role-to-user", "view", "a:b", "-n", "pub"],
    );
    assert!(err.contains("':'"), "{err}");
    // Cluster-wide, for a group.
    c.ok(&[
        "adm",
        "policy",
        "add-cluster-role-to-group",
        "system:image-puller",
        "system:authenticated",
    ]);
    let table = c.ok(&["get", "clusterrolebindings"]);
    assert!(table.contains("system:authenticated"), "{table}");
    c.ok(&[
        "adm",
        "policy",
        "remove-cluster-role-from-group",
        "system:image-puller",
        "system:authenticated",
    ]);
    let table = c.ok(&["get", "clusterrolebindings"]);
    assert!(!table.contains("system:authenticated "), "{table}");
}

async fn anonymous_tags(server: &TestServer) -> u16 {
    reqwest::get(server.url("/v2/pub/app/tags/list"))
        .await
        .expect("GET tags/list")
        .status()
        .as_u16()
}

/// Passwords from standard input, credentials from the environment, and errors that say what
/// to do: not logged in, a server that is not there, a token meant for another server.
#[tokio::test]
async fn credentials_from_stdin_and_environment_and_the_errors() {
    let server = TestServer::start_secure(Db::Sqlite);
    let c = Client::new();
    let err = c.fails_with(1, &["get", "projects"]);
    assert!(err.contains("not logged in: run berth login"), "{err}");
    // No -p: the password is the first line of standard input.
    let out = c.run_with_stdin(
        &["login", &server.base, "-u", "admin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = c.run_with_stdin(
        &["login", &server.base, "-u", "admin", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = c.run_with_stdin(&["login", &server.base, "-u", "admin"], "");
    assert_eq!(out.status.code(), Some(2));
    c.fails_with(
        2,
        &[
            "login",
            &server.base,
            "-u",
            "admin",
            "-p",
            "x",
            "--token",
            "y",
        ],
    );
    let err = c.fails_with(2, &["login", &server.base, "-u", "a:b", "-p", "x"]);
    assert!(err.contains("':'"), "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = c.config_file().parent().unwrap().to_path_buf();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let mode = std::fs::metadata(c.config_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only config.yaml, no temporary files");
    }
    let stored: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(c.config_file()).unwrap()).unwrap();
    assert_eq!(stored["server"], server.base.as_str());
    assert_eq!(stored["user"], "admin");
    let token = stored["token"].as_str().unwrap().to_string();

    // BERTH_SERVER and BERTH_TOKEN stand in for a login.
    let env_only = Client::new();
    let out = env_only
        .command(&["whoami"])
        .env("BERTH_SERVER", &server.base)
        .env("BERTH_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "admin");
    assert_eq!(
        env_only
            .ok(&["whoami", "--server", &server.base, "--token", &token])
            .trim(),
        "admin"
    );
    let err = env_only.fails_with(
        1,
        &[
            "whoami",
            "--token",
            "sha256~not-a-token",
            "--server",
            &server.base,
        ],
    );
    assert!(err.contains("berth login"), "{err}");

    // Nothing listens there: the error names the server.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let err = c.fails_with(1, &["login", &dead, "-u", "admin", "-p", "x"]);
    assert!(err.contains(&dead), "{err}");
    // The stored token is not sent to another server.
    let err = c.fails_with(1, &["get", "projects", "--server", &dead]);
    assert!(
        err.contains("not logged in to") && err.contains(&dead),
        "{err}"
    );
    let err = c.fails_with(
        1,
        &["get", "projects", "--server", &dead, "--token", &token],
    );
    assert!(err.contains(&dead) && err.contains("cannot reach"), "{err}");
    c.fails_with(2, &["login", "127.0.0.1:5000", "-u", "admin", "-p", "x"]);
    c.fails_with(2, &["get", "pods"]);

    // Logging out when the server is gone still forgets the token here.
    let gone = Client::new();
    gone.ok(&["login", &server.base, "-u", "admin", "-p", ADMIN_PASSWORD]);
    let path = gone.config_file();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(&server.base, &dead)).unwrap();
    let out = gone.run(&["logout"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not revoked"));
    assert!(!std::fs::read_to_string(&path).unwrap().contains("token"));
    let err = gone.fails_with(1, &["whoami"]);
    assert!(err.contains(&format!("run berth login {dead}")), "{err}");
}

/// `berth get is -w` prints the streams, then each change; `berth tag --alias` follows the
/// source; `--source=docker` takes a pull spec; selectors and all projects.
#[tokio::test]
async fn watch_alias_and_pull_spec_sources_through_the_client() {
    use std::io::{BufRead, BufReader};
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
    let images: Vec<_> = (0..2)
        .map(|i| crate::support::registry::Image::generated(500 + i, 1))
        .collect();
    reg.push_image("team/app", "v1", &images[0]).await;

    let mut watcher = c
        .command(&["get", "is", "-n", "team", "-w", "-o", "name"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth get -w");
    let mut lines = BufReader::new(watcher.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("text");
    assert_eq!(first, "imagestream/app");

    // An alias follows; a copy (the default) stays.
    let out = c.ok(&["tag", "--alias", "app:v1", "app:latest", "-n", "team"]);
    assert!(out.contains("follows"), "{out}");
    c.ok(&["tag", "app:v1", "app:pinned", "-n", "team"]);
    reg.push_image("team/app", "v1", &images[1]).await;
    let current = |tag: &str| -> String {
        let v: Value = serde_json::from_str(&c.ok(&[
            "get",
            "istag",
            &format!("app:{tag}"),
            "-n",
            "team",
            "-o",
            "json",
        ]))
        .unwrap();
        v["image"]["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(current("latest"), images[1].digest);
    assert_eq!(current("pinned"), images[0].digest);
    // The watcher saw each of those changes.
    for _ in 0..3 {
        let line = lines.next().expect("a change").expect("text");
        assert_eq!(line, "imagestream/app");
    }
    let _ = watcher.kill();
    let _ = watcher.wait();

    // A pull spec of this registry is resolved; one elsewhere is recorded without an image.
    let spec = format!("{}/team/app:v1", server.addr);
    c.ok(&["tag", "--source=docker", &spec, "app:mirror", "-n", "team"]);
    assert_eq!(current("mirror"), images[1].digest);
    let out = c.ok(&[
        "tag",
        "--source=docker",
        "quay.io/example/tool:1",
        "app:ext",
        "-n",
        "team",
    ]);
    assert!(out.contains("no image yet"), "{out}");
    let err = c.fails_with(2, &["tag", "--source=ftp", "a:b", "app:x", "-n", "team"]);
    assert!(err.contains("istag, isimage or docker"), "{err}");

    // describe shows where tags come from, and what could not be done.
    let described = c.ok(&["describe", "is", "app", "-n", "team"]);
    assert!(described.contains("follows app:v1"), "{described}");
    assert!(
        described.contains(&format!("tagged from app@{}", images[0].digest)),
        "{described}"
    );
    assert!(described.contains("ImportNotAvailable"), "{described}");
    // An image stream image, selectors and every project.
    let name = format!("app@{}", images[0].digest);
    let isimage = c.ok(&["get", "isimage", &name, "-n", "team"]);
    assert!(isimage.contains(&images[0].digest), "{isimage}");
    c.ok(&["new-project", "ops"]);
    let all = c.ok(&["get", "is", "-A", "-o", "name"]);
    assert_eq!(all.trim(), "imagestream/app");
    let none = c.ok(&["get", "is", "-n", "team", "-l", "app=web"]);
    assert!(none.contains("No resources found"), "{none}");
    let out = c.ok(&[
        "patch",
        "is",
        "app",
        "-n",
        "team",
        "-p",
        r#"{"metadata":{"labels":{"app":"web"}}}"#,
    ]);
    assert_eq!(out.trim(), "imagestream/app patched");
    let some = c.ok(&["get", "is", "-n", "team", "-l", "app=web", "-o", "name"]);
    assert_eq!(some.trim(), "imagestream/app");
    c.ok(&[
        "patch",
        "is",
        "app",
        "-n",
        "team",
        "--type",
        "json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/labels/app"}]"#,
    ]);
    let none = c.ok(&["get", "is", "-n", "team", "-l", "app", "-o", "name"]);
    assert!(none.trim().is_empty(), "{none}");
    let err = c.fails_with(
        2,
        &[
            "patch", "is", "app", "-n", "team", "--type", "json", "-p", "{}",
        ],
    );
    assert!(err.contains("array of operations"), "{err}");
    let err = c.fails(&[
        "patch",
        "is",
        "app",
        "-n",
        "team",
        "-p",
        r#"{"metadata":{"name":"other"}}"#,
    ]);
    assert!(err.contains("does not match"), "{err}");
}
