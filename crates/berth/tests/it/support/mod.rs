//! Test harness: start a real `berth serve` process, wait until it answers, stop it on drop.
//!
//! Every server gets its own temporary data directory, its own port and its own database: a
//! SQLite file in the data directory, or a fresh PostgreSQL database created on the cluster named
//! by `BERTH_TEST_POSTGRES_URL` (set by `.ci/run`).

#![allow(dead_code)]

pub mod access;
pub mod baseline;
pub mod layout;
pub mod proxy;
pub mod registry;
pub mod tools;
pub mod webhook;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which metadata backend a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The metadata backends available in this run. PostgreSQL is included when
/// `BERTH_TEST_POSTGRES_URL` is set; otherwise a loud SKIPPED line says why it is not.
pub fn databases() -> Vec<Db> {
    if std::env::var("BERTH_TEST_POSTGRES_URL").is_ok() {
        vec![Db::Sqlite, Db::Postgres]
    } else {
        eprintln!("SKIPPED (PostgreSQL): BERTH_TEST_POSTGRES_URL is not set; .ci/run starts a cluster and sets it");
        vec![Db::Sqlite]
    }
}

/// Where a test server keeps blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Filesystem,
    Memory,
    S3,
    Gcs,
    Azure,
}

/// A metadata backend and a blob store to run a test on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    pub db: Db,
    pub store: Store,
}

/// The well-known key of the Azure storage emulator's account `devstoreaccount1` (published
/// with the emulator; not a secret).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Every setup the registry tests run on: each database on the filesystem, memory storage, and
/// each object store whose server `.ci/run` started (their addresses come in
/// `BERTH_TEST_S3_ENDPOINT`, `BERTH_TEST_AZURE_ENDPOINT`, `BERTH_TEST_GCS_ENDPOINT`); a loud
/// SKIPPED line names each one missing.
pub fn setups() -> Vec<Setup> {
    let mut all: Vec<Setup> = databases()
        .into_iter()
        .map(|db| Setup {
            db,
            store: Store::Filesystem,
        })
        .collect();
    all.push(Setup {
        db: Db::Sqlite,
        store: Store::Memory,
    });
    for (store, var, server) in [
        (
            Store::S3,
            "BERTH_TEST_S3_ENDPOINT",
            "an S3 server (moto_server)",
        ),
        (
            Store::Azure,
            "BERTH_TEST_AZURE_ENDPOINT",
            "the Azure Blob emulator (azurite-blob)",
        ),
        (Store::Gcs, "BERTH_TEST_GCS_ENDPOINT", "a GCS emulator"),
    ] {
        if std::env::var(var).is_ok() {
            all.push(Setup {
                db: Db::Sqlite,
                store,
            });
        } else {
            eprintln!("SKIPPED ({store:?} storage): {var} is not set; .ci/run starts {server} and sets it");
        }
    }
    all
}

pub struct TestServer {
    pub base: String,
    pub addr: String,
    pub db: Db,
    pub data_dir: tempfile::TempDir,
    pub database_url: String,
    child: Option<Child>,
    log_path: PathBuf,
    extra_args: Vec<String>,
    /// With access control on, the bootstrapped administrator's password; `None` for the open
    /// registry (`--auth none`) most registry API tests use.
    pub admin_password: Option<String>,
    /// Access control on (the default of `berth serve`) rather than `--auth none`.
    pub secure: bool,
}

/// The administrator password secured test servers bootstrap with.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// Creates a new, empty PostgreSQL database for one test and returns its URL.
pub fn fresh_postgres_database() -> String {
    let admin = std::env::var("BERTH_TEST_POSTGRES_URL").expect("BERTH_TEST_POSTGRES_URL");
    let name = format!("berth_test_{}", uuid_like());
    let status = Command::new("psql")
        .arg(&admin)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .status()
        .expect("psql");
    assert!(status.success(), "could not create database {name}");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("BERTH_TEST_POSTGRES_URL must end in /<database>");
    format!("{base}/{name}")
}

/// Writes a configuration file naming the blob store, with a bucket of its own for this server;
/// answers its path.
fn storage_config(store: Store, dir: &Path, extra_yaml: &str) -> PathBuf {
    let bucket = format!("t{}", uuid_like().replace('_', "-"));
    let env = |var: &str| std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set"));
    let section = match store {
        Store::Filesystem => format!(
            "storage:\n  filesystem: {{rootDirectory: {:?}}}",
            dir.join("data").display().to_string()
        ),
        Store::Memory => "storage:\n  emptyDir: {}".to_string(),
        Store::S3 => format!(
            "storage:\n  s3: {{bucket: {bucket}, region: us-east-1, regionEndpoint: {:?}}}",
            env("BERTH_TEST_S3_ENDPOINT")
        ),
        Store::Azure => format!(
            "storage:\n  azure: {{accountName: devstoreaccount1, container: {bucket}, endpoint: {:?}}}",
            format!("{}/devstoreaccount1", env("BERTH_TEST_AZURE_ENDPOINT"))
        ),
        Store::Gcs => {
            let key = serde_json::json!({
                "gcs_base_url": env("BERTH_TEST_GCS_ENDPOINT"),
                "disable_oauth": true,
                "client_email": "",
                "private_key": "",
                "private_key_id": "",
            });
            std::fs::write(dir.join("gcs-key.json"), key.to_string()).expect("GCS key file");
            format!("storage:\n  gcs: {{bucket: {bucket}}}")
        }
    };
    let path = dir.join("berth.yaml");
    std::fs::write(&path, format!("{section}\n{extra_yaml}\n")).expect("config file");
    path
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestServer {
    /// Starts a server with SQLite metadata and filesystem storage.
    pub fn start() -> TestServer {
        TestServer::start_with(Db::Sqlite, &[])
    }

    /// Starts an open registry (`--auth none`) on a setup's database and blob store.
    pub fn start_setup(setup: &Setup) -> TestServer {
        TestServer::start_setup_with(setup, false, "")
    }

    /// Starts a server on a setup's database and blob store, with access control when `secure`
    /// and `extra_yaml` appended to its configuration file (indented lines continue the
    /// `storage:` block, for example `  maintenance: {…}`).
    pub fn start_setup_with(setup: &Setup, secure: bool, extra_yaml: &str) -> TestServer {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let config = storage_config(setup.store, data_dir.path(), extra_yaml);
        let config = config.display().to_string();
        let password = secure.then(|| ADMIN_PASSWORD.to_string());
        TestServer::start_in(
            data_dir,
            setup.db,
            None,
            &["--config", &config],
            secure,
            password,
        )
    }

    /// Starts an open registry on `database_url` with `config_yaml` as its configuration file.
    pub fn start_custom(database_url: &str, config_yaml: &str) -> TestServer {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let config = data_dir.path().join("berth.yaml");
        std::fs::write(&config, config_yaml).expect("config file");
        let config = config.display().to_string();
        TestServer::start_in(
            data_dir,
            Db::Postgres,
            Some(database_url.to_string()),
            &["--config", &config],
            false,
            None,
        )
    }

    /// Another replica of `self`: its own process, port and log, the same database, blob store
    /// and configuration file.
    pub fn replica(&self) -> TestServer {
        let data_dir = tempfile::tempdir().expect("tempdir");
        if let Ok(key) = std::fs::read(self.data_dir.path().join("gcs-key.json")) {
            std::fs::write(data_dir.path().join("gcs-key.json"), key).expect("GCS key");
        }
        let mut server = TestServer {
            base: String::new(),
            addr: String::new(),
            db: self.db,
            log_path: data_dir.path().join("server.log"),
            data_dir,
            database_url: self.database_url.clone(),
            child: None,
            extra_args: self.extra_args.clone(),
            admin_password: self.admin_password.clone(),
            secure: self.secure,
        };
        server.launch();
        server
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn crash(&mut self) {
        self.kill();
    }

    /// Starts an open registry (`--auth none`) on the given metadata backend, with extra
    /// `berth serve` arguments.
    pub fn start_with(db: Db, extra_args: &[&str]) -> TestServer {
        TestServer::start_inner(db, extra_args, false, None)
    }

    /// Starts a server with access control on (the default of `berth serve`); its administrator
    /// is `admin` with [`ADMIN_PASSWORD`].
    pub fn start_secure(db: Db) -> TestServer {
        TestServer::start_inner(db, &[], true, Some(ADMIN_PASSWORD.to_string()))
    }

    /// Like [`TestServer::start_secure`], with extra `berth serve` arguments.
    pub fn start_secure_with(db: Db, extra_args: &[&str]) -> TestServer {
        TestServer::start_inner(db, extra_args, true, Some(ADMIN_PASSWORD.to_string()))
    }

    /// Starts a server with access control on and no `BERTH_ADMIN_PASSWORD`: the first start
    /// generates the administrator's password and prints it.
    pub fn start_secure_generated(db: Db) -> TestServer {
        TestServer::start_inner(db, &[], true, None)
    }

    fn start_inner(
        db: Db,
        extra_args: &[&str],
        secure: bool,
        admin_password: Option<String>,
    ) -> TestServer {
        let data_dir = tempfile::tempdir().expect("tempdir");
        TestServer::start_in(data_dir, db, None, extra_args, secure, admin_password)
    }

    fn start_in(
        data_dir: tempfile::TempDir,
        db: Db,
        database_url: Option<String>,
        extra_args: &[&str],
        secure: bool,
        admin_password: Option<String>,
    ) -> TestServer {
        let database_url = database_url.unwrap_or_else(|| match db {
            Db::Sqlite => format!("sqlite://{}/berth.db", data_dir.path().display()),
            Db::Postgres => fresh_postgres_database(),
        });
        let mut server = TestServer {
            base: String::new(),
            addr: String::new(),
            db,
            log_path: data_dir.path().join("server.log"),
            data_dir,
            database_url,
            child: None,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            admin_password,
            secure,
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        for _attempt in 0..5 {
            let port = free_port();
            self.addr = format!("127.0.0.1:{port}");
            self.base = format!("http://{}", self.addr);
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log_path)
                .expect("log file");
            let mut command = Command::new(env!("CARGO_BIN_EXE_berth"));
            command
                .arg("serve")
                .args(["--listen", &self.addr])
                .arg("--data-dir")
                .arg(self.data_dir.path().join("data"))
                .args(["--database-url", &self.database_url])
                .args(&self.extra_args)
                .env_remove("BERTH_AUTH")
                .env("RUST_LOG", "info");
            command
                .env_remove("BERTH_ADMIN_PASSWORD")
                .env("REGISTRY_STORAGE_S3_ACCESSKEY", "berth-test")
                .env("REGISTRY_STORAGE_S3_SECRETKEY", "berth-test-secret")
                .env("REGISTRY_STORAGE_AZURE_ACCOUNTKEY", AZURITE_KEY)
                .env(
                    "REGISTRY_STORAGE_GCS_KEYFILE",
                    self.data_dir.path().join("gcs-key.json"),
                );
            if !self.secure {
                command.args(["--auth", "none"]);
            }
            if let Some(p) = &self.admin_password {
                command.env("BERTH_ADMIN_PASSWORD", p);
            }
            let child = command
                .stdout(Stdio::from(log.try_clone().expect("log")))
                .stderr(Stdio::from(log))
                .spawn()
                .expect("spawn berth");
            self.child = Some(child);
            if self.wait_ready(Duration::from_secs(30)) {
                return;
            }
            self.kill();
        }
        panic!("berth did not start; log:\n{}", self.log());
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    return false;
                }
            }
            if std::net::TcpStream::connect(&self.addr).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The server's log so far (stdout and stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Where the filesystem backend keeps blobs.
    pub fn storage_dir(&self) -> PathBuf {
        self.data_dir.path().join("data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the server (SIGKILL) and starts it again on the same data and database.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Like [`TestServer::restart`], with other extra `berth serve` arguments.
    pub fn restart_with(&mut self, extra_args: &[&str]) {
        self.extra_args = extra_args.iter().map(|s| s.to_string()).collect();
        self.restart();
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server is running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        child.wait().expect("wait for berth")
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn data_path(&self) -> &Path {
        self.data_dir.path()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- berth log ({}) ----\n{}", self.base, self.log());
        }
    }
}
