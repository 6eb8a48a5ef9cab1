//! The `wxcs` binary as a separate process: the one `WXCS_TEST_BIN` names (a release build,
//! say), else the debug build cargo made for the tests (scripts/test.sh runs that one).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// The `wxcs` binary the process tests run.
pub fn wxcs() -> PathBuf {
    std::env::var_os("WXCS_TEST_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wxcs")), PathBuf::from)
}

/// `wxcs emulate` on two free ports; killed on drop.
pub struct Process {
    pub child: Child,
    pub wx: String,
    pub cos: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port a child process can listen on. Taken below Linux's ephemeral range (32768 up),
/// never from it: a port the kernel hands out for `:0` is free again once probed, and the
/// next outgoing connection of any process may take it before the child binds it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    // Each test binary starts at its own offset, and no two calls in one return the same.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = (std::process::id() % 500) as u16 * 24;
    loop {
        let port = 20_000 + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub async fn spawn(data_dir: &Path) -> Process {
    spawn_with(data_dir, &[]).await
}

/// [`spawn`] with more arguments for `wxcs emulate`.
pub async fn spawn_with(data_dir: &Path, args: &[&str]) -> Process {
    let (wx_port, cos_port) = (free_port(), free_port());
    let child = Command::new(wxcs())
        .args(["emulate", "--wx-port", &wx_port.to_string(), "--cos-port", &cos_port.to_string()])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("wxcs starts");
    let process = Process {
        child,
        wx: format!("http://127.0.0.1:{wx_port}"),
        cos: format!("http://127.0.0.1:{cos_port}"),
    };
    wait_until_it_answers(&format!("{}/__emulator/stats", process.wx), "wxcs emulate").await;
    process
}

/// Polls `url` for up to 5 s until it answers; panics naming `what` if it never does.
async fn wait_until_it_answers(url: &str, what: &str) {
    for _ in 0..100 {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not come up");
}

/// Peak resident memory of a process, in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

/// Resident memory of a process now, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// A `/proc/<pid>/status` line's figure, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// `wxcs serve` in front of the emulator at `wx` (spawned by [`spawn`]), with `users`
/// (`token=uid,…`), on a free port; its base URL once it answers. Killed on drop (SIGKILL:
/// what a crash or an instance taken away looks like).
pub struct Backend {
    pub child: Child,
    pub url: String,
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Backend {
    /// `kill -9`, now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// [`spawn_backend_with`] with its state in a fresh data directory and no rate limit to
/// speak of.
pub async fn spawn_backend(wx: &str, users: &str) -> Backend {
    let data = super::temp_dir("serve");
    spawn_backend_with(wx, users, &["--data-dir", data.to_str().unwrap(), "--rate-per-minute", "1000000"])
        .await
}

/// `wxcs serve` with more flags (`--data-dir`, `--database`, limits, …).
pub async fn spawn_backend_with(wx: &str, users: &str, args: &[&str]) -> Backend {
    spawn_backend_logging(wx, users, args, None).await
}

/// [`spawn_backend_with`], its output (the log) written to `log` if given.
pub async fn spawn_backend_logging(wx: &str, users: &str, args: &[&str], log: Option<&Path>) -> Backend {
    let output = || match log {
        Some(path) => Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap()),
        None => Stdio::null(),
    };
    let port = free_port();
    let child = Command::new(wxcs())
        .args(["serve", "--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(args)
        .env("WX_API_BASE", wx)
        .env("WX_ENV", "dev-emulator")
        .env("WX_APPID", "wx0000000000emulator")
        .env("WX_SECRET", "emulator-app-secret")
        .env("WXCS_USERS", users)
        .env_remove("MYSQL_ADDRESS")
        .stdout(output())
        .stderr(output())
        .spawn()
        .expect("wxcs starts");
    let backend = Backend { child, url: format!("http://127.0.0.1:{port}") };
    wait_until_it_answers(&format!("{}/healthz", backend.url), "wxcs serve").await;
    backend
}
