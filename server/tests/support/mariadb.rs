//! A private MariaDB (or MySQL) server for the tests that need the real engine: installed
//! from the distribution's packages by `scripts/setup.sh`, started here once per test
//! binary on a free port and its own socket, with its data under the build directory, and
//! stopped (and its data removed) when the test binary exits, by a watchdog shell that
//! outlives it by a second. A test gets its own database, so tests never see each other's
//! rows. `WXCS_TEST_MYSQL_URL` (`mysql://user:password@host:port`) points the tests at a
//! server of your own instead.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

/// The user the tests log in as, with a password that needs URL-encoding (as Cloud Run's
/// generated ones can).
pub const USER: &str = "wxcs";
pub const PASSWORD: &str = "p@ss:w/rd#1";

/// A running server: where it listens.
#[derive(Debug, Clone)]
pub struct MariaDb {
    /// `mysql://user:password@127.0.0.1:port` (password encoded), without a database.
    pub server_url: String,
    /// `127.0.0.1:port`, as Cloud Run's `MYSQL_ADDRESS`.
    pub address: String,
}

impl MariaDb {
    /// The URL of a database no other test uses (created by whoever connects first).
    pub fn database_url(&self, tag: &str) -> String {
        format!("{}/{}", self.server_url, database_name(tag))
    }
}

/// A database name unique to this test binary and `tag`.
pub fn database_name(tag: &str) -> String {
    format!("t_{}_{}", std::process::id(), tag.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
}

/// The server, started on first use.
pub fn mariadb() -> MariaDb {
    static SERVER: OnceLock<MariaDb> = OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("WXCS_TEST_MYSQL_URL") {
            Ok(url) => {
                let address = url.rsplit('@').next().unwrap_or_default().to_owned();
                MariaDb { server_url: url, address }
            }
            Err(_) => start(),
        })
        .clone()
}

fn binary(names: &[&str]) -> PathBuf {
    for name in names {
        for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = PathBuf::from(dir).join(name);
            if path.exists() {
                return path;
            }
        }
    }
    panic!("{} is not installed: run scripts/setup.sh (it installs mariadb-server)", names[0]);
}

// The watchdog shell is never waited for: it outlives this process by design.
#[allow(clippy::zombie_processes)]
fn start() -> MariaDb {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("mariadb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let (data, socket) = (root.join("data"), root.join("mysql.sock"));
    let user = std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into());
    let installed = Command::new(binary(&["mariadb-install-db", "mysql_install_db"]))
        .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db"])
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--user={user}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("mariadb-install-db runs");
    assert!(installed.success(), "mariadb-install-db failed");
    let port = super::process::free_port();
    let server = format!(
        "{} --no-defaults --datadir={} --socket={} --port={port} --bind-address=127.0.0.1 --user={user} \
         --pid-file={}/mysqld.pid --innodb-buffer-pool-size=64M --skip-log-bin --max-connections=500",
        binary(&["mariadbd", "mysqld"]).display(),
        data.display(),
        socket.display(),
        root.display(),
    );
    // The watchdog: stops the server and removes its data once this test binary is gone.
    let watchdog = format!(
        "{server} >{root}/log 2>&1 & db=$!; while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
         kill $db; wait $db; rm -rf {root}",
        root = root.display(),
        parent = std::process::id()
    );
    Command::new("sh").args(["-c", &watchdog]).stdin(Stdio::null()).spawn().expect("sh starts");
    let client = binary(&["mariadb", "mysql"]);
    let sql = format!(
        "CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO '{USER}'@'%'; FLUSH PRIVILEGES;"
    );
    for attempt in 0.. {
        let done = Command::new(&client)
            .args(["--no-defaults", "-uroot"])
            .arg(format!("--socket={}", socket.display()))
            .args(["-e", &sql])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if done {
            break;
        }
        assert!(attempt < 150, "MariaDB did not start: see {}/log", root.display());
        std::thread::sleep(Duration::from_millis(100));
    }
    let encoded: String = PASSWORD
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    MariaDb {
        server_url: format!("mysql://{USER}:{encoded}@127.0.0.1:{port}"),
        address: format!("127.0.0.1:{port}"),
    }
}
