// A private MariaDB for the bench's state rows, as the Rust tests start theirs
// (server/tests/support/mariadb.rs): its own data directory, port and socket, a user with a
// password, stopped and removed by stop().
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const find = (names) => {
  for (const name of names) {
    for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
      if (existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return null;
};

/** Starts MariaDB under `root` on `port`; `{ url, stop }`, or null when it is not installed. */
export async function startMariaDb(root, port) {
  const [installDb, server, client] = [['mariadb-install-db', 'mysql_install_db'], ['mariadbd', 'mysqld'], ['mariadb', 'mysql']].map(find);
  if (!installDb || !server || !client) return null;
  const data = join(root, 'data');
  const socket = join(root, 'mysql.sock');
  mkdirSync(root, { recursive: true });
  const user = process.env.USER || 'root';
  execFileSync(installDb, ['--no-defaults', '--auth-root-authentication-method=normal', '--skip-test-db', `--datadir=${data}`, `--user=${user}`], { stdio: 'ignore' });
  const child = spawn(server, ['--no-defaults', `--datadir=${data}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--user=${user}`, `--pid-file=${root}/mysqld.pid`, '--innodb-buffer-pool-size=256M', '--skip-log-bin', '--max-connections=500'], { stdio: 'ignore' });
  const sql = (statements) => execFileSync(client, ['--no-defaults', '-uroot', `--socket=${socket}`, '-e', statements], { stdio: 'ignore' });
  for (let tries = 0; ; tries++) {
    try {
      sql("CREATE USER 'bench'@'%' IDENTIFIED BY 'bench-password'; GRANT ALL ON *.* TO 'bench'@'%'; FLUSH PRIVILEGES;");
      break;
    } catch (error) {
      if (tries > 150) throw new Error(`MariaDB did not start under ${root}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url: `mysql://bench:bench-password@127.0.0.1:${port}`,
    sql,
    // The server may still be writing as it exits: the removal retries (ENOTEMPTY).
    stop() { child.kill(); rmSync(root, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }); },
  };
}
