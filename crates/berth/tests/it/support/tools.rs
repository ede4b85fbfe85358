//! Running real client programs (skopeo, podman, buildah, python3) with a time limit, showing
//! their output when they fail.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Whether `tool` can be run; prints a loud SKIPPED line when not.
pub fn available(tool: &str, probe: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED ({tool}): `{tool}` is not installed here; .ci/run installs it (apt-get install -y skopeo podman buildah; pip install oras)");
    }
    ok
}

/// Runs `tool args…` and returns its output, failing the test (with the output) when it exits
/// non-zero or runs longer than three minutes.
pub fn run(tool: &str, args: &[&str]) -> Output {
    run_in(tool, args, None)
}

pub fn run_in(tool: &str, args: &[&str], dir: Option<&Path>) -> Output {
    let out = try_run_in(tool, args, dir);
    assert!(
        out.status.success(),
        "`{tool} {}` failed ({}):\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Like [`run_in`] but returns a failed output instead of failing the test.
pub fn try_run_in(tool: &str, args: &[&str], dir: Option<&Path>) -> Output {
    let mut cmd = Command::new(tool);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {tool}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(180)) {
        Ok(out) => out.unwrap_or_else(|e| panic!("{tool} output: {e}")),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("`{tool} {}` took more than three minutes", args.join(" "));
        }
    }
}

/// Global options giving podman or buildah a private store for one test.
pub fn private_store(dir: &Path) -> Vec<String> {
    vec![
        "--root".into(),
        dir.join("storage").display().to_string(),
        "--runroot".into(),
        dir.join("run").display().to_string(),
        "--storage-driver".into(),
        "vfs".into(),
    ]
}

pub fn with(base: &[String], args: &[&str]) -> Vec<String> {
    base.iter()
        .cloned()
        .chain(args.iter().map(|s| s.to_string()))
        .collect()
}

pub fn run_owned(tool: &str, args: Vec<String>) -> std::process::Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(tool, &refs)
}

/// A fresh directory whose whole path is lowercase, removed on drop.
pub struct LowercaseDir(std::path::PathBuf);

impl LowercaseDir {
    pub fn new() -> LowercaseDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "berth-e2e-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        LowercaseDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for LowercaseDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
