// The state store's rows (#29): credential requests per second with the record on SQLite and
// on MariaDB beside the backend from before the store (all in memory), and list latency over
// 100,000 records on each engine. Every backend runs at once against the same emulator and
// the rounds interleave, so drift hits all alike.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { startMariaDb } from './mariadb.mjs';

const RECORDS = 100_000;
const PREFIX = 'cloud://dev-emulator.6465-dev-emulator-1300000000/';

/** wrk's figures for `script` against `url`. */
export function wrk(here, url, connections, seconds, script = 'credentials.lua', env = {}) {
  const out = execFileSync('wrk', ['-t', `${Math.min(2, connections)}`, '-c', `${connections}`, '-d', `${seconds}s`, '--latency', '-s', join(here, script), url],
    { encoding: 'utf8', env: { ...process.env, ...env } });
  const toMs = (text) => {
    const [, value, unit] = text.match(/([\d.]+)(us|ms|s)/);
    return Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
  };
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/);
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]),
    p50: toMs(out.match(/^\s+50%\s+(\S+)/m)[1]),
    p99: toMs(out.match(/^\s+99%\s+(\S+)/m)[1]),
    errors: errors ? Number(errors[1]) : 0,
  };
}

/** 100,000 stored products (and 100 of the bench user's own), as SQL for `engine`. */
function fillSql(engine, start) {
  const row = (n, key, owner) => `('${PREFIX}${key}', '${key}', '${owner}', 'stored', 1024, 'image/png', '0', ${start} + ${n}, ${start} + ${n})`;
  const columns = 'INSERT INTO files (file_id, object_key, owner, state, size, content_type, crc64, created_at, updated_at)';
  if (engine === 'mysql') {
    return `${columns} SELECT CONCAT('${PREFIX}products/p', LPAD(seq, 6, '0'), '.png'), CONCAT('products/p', LPAD(seq, 6, '0'), '.png'),
      'editor', 'stored', 1024, 'image/png', '0', ${start} + seq, ${start} + seq FROM seq_1_to_${RECORDS};
      ${columns} VALUES ${Array.from({ length: 100 }, (_, i) => row(RECORDS + i, `users/bench/own${i}.png`, 'bench')).join(', ')};`;
  }
  return `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${RECORDS})
    ${columns} SELECT '${PREFIX}products/p' || printf('%06d', i) || '.png', 'products/p' || printf('%06d', i) || '.png',
      'editor', 'stored', 1024, 'image/png', '0', ${start} + i, ${start} + i FROM n;
    ${columns} VALUES ${Array.from({ length: 100 }, (_, i) => row(RECORDS + i, `users/bench/own${i}.png`, 'bench')).join(', ')};`;
}

/** Starts the backends: `{ name: url }`, and the MariaDB to stop. */
async function backends({ HERE, WXCS, baselineBin, wxPort, work, start, waitFor, freePort }) {
  // The demo's rules: each user's folder, and products/ that signed-in users may list.
  const rules = join(HERE, '..', 'server', 'src', 'cli', 'dev', 'rules.toml');
  const env = {
    WXCS_BIND: '127.0.0.1', WX_API_BASE: `http://127.0.0.1:${wxPort}`, WX_ENV: 'dev-emulator', WX_APPID: 'wx0000000000emulator',
    WX_SECRET: 'emulator-app-secret', WXCS_USERS: 'bench-token=bench', WXCS_RATE_PER_MINUTE: '4000000000', WXCS_LOG: process.env.WXCS_BENCH_STATE_LOG || 'warn',
    WXCS_MAX_CONNECTIONS_PER_ADDRESS: '1024',
  };
  const mariadb = await startMariaDb(join(work, 'mariadb'), await freePort());
  const urls = {};
  const pids = {};
  const launch = async (name, bin, extra) => {
    const port = await freePort();
    pids[name] = start(bin, ['serve'], { ...env, PORT: `${port}`, ...extra }).pid;
    urls[name] = `http://127.0.0.1:${port}`;
    await waitFor(`${urls[name]}/healthz`);
  };
  if (baselineBin) await launch('memory', baselineBin, {});
  await launch('sqlite', WXCS, { WXCS_DATA_DIR: join(work, 'state-sqlite'), WXCS_RULES: rules });
  if (mariadb) await launch('mariadb', WXCS, { WXCS_DATABASE: `${mariadb.url}/wxcs_bench`, WXCS_RULES: rules });
  return { urls, pids, mariadb };
}

/** CPU seconds (user + system) process `pid` has used so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Fills each engine's record with the 100,000 products (after the backend migrated it). */
async function fill(urls, mariadb, work) {
  for (const url of [urls.sqlite, urls.mariadb].filter(Boolean)) {
    // On a connection of its own (node:http, no agent): fetch's pool may hand out the
    // socket of the start-up health check, which the server closed after 10 s idle; a
    // `connection: close` header did not keep fetch from reusing it.
    const status = await new Promise((resolve) => {
      const request = httpRequest(`${url}/api/storage/list`, {
        method: 'POST', agent: false, headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
      }, (response) => response.resume().on('end', () => resolve(response.statusCode)));
      request.on('error', (e) => resolve(e.message));
      request.end('{}');
    });
    if (status !== 200) console.error(`bench: state: ${url}: the first list failed: ${status}`);
  }
  const start = Date.now() - 10 * 24 * 3600 * 1000;
  const sqlite = join(work, 'state-sqlite', 'wxcs.sqlite');
  execFileSync('python3', ['-c', 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.executescript(sys.stdin.read()); db.commit()', sqlite],
    { input: fillSql('sqlite', start) });
  if (mariadb) mariadb.sql(`USE wxcs_bench; ${fillSql('mysql', start)}`);
}

export async function stateBench(context) {
  const { HERE, QUICK, row, log, median } = context;
  log('state: backends on SQLite and MariaDB, and the in-memory baseline');
  const { urls, pids, mariadb } = await backends(context);
  try {
    const seconds = QUICK ? 2 : 5;
    const rounds = QUICK ? 1 : 5;
    const rps = Object.fromEntries(Object.keys(urls).map((name) => [name, []]));
    // The backend's own CPU per request: unlike req/s it does not move with the machine's
    // load, so it says where the time goes (the store's share is ours minus the baseline).
    const cpu = Object.fromEntries(Object.keys(urls).map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 ? Object.keys(urls).reverse() : Object.keys(urls)) {
        const before = cpuSeconds(pids[name]);
        const figures = wrk(HERE, `${urls[name]}/api/storage/upload-credentials`, 16, seconds);
        if (figures.errors) log(`state: ${name} answered ${figures.errors} non-2xx`);
        rps[name].push(figures.rps);
        cpu[name].push(((cpuSeconds(pids[name]) - before) * 1e6) / (figures.rps * seconds));
      }
    }
    const base = rps.memory ? median(rps.memory) : null;
    for (const name of ['sqlite', 'mariadb'].filter((n) => rps[n])) {
      const ours = median(rps[name]);
      const spread = `${Math.min(...rps[name]).toFixed(0)}–${Math.max(...rps[name]).toFixed(0)}`;
      const meets = ours >= 5000 && (!base || ours >= 0.8 * base) ? 'yes' : 'no';
      console.error(`bench: state: ${name}: ${rps[name].map((r) => r.toFixed(0)).join(', ')} req/s; baseline ${rps.memory?.map((r) => r.toFixed(0)).join(', ')}`);
      row('state', `upload-credentials req/s, concurrency 16, record on ${name === 'sqlite' ? 'SQLite' : 'MariaDB'} (median of ${rounds}; range ${spread})`,
        ours.toFixed(0), 'wxcs serve at c4af3e2 (state in memory)', base ? base.toFixed(0) : 'not built', base ? `${(ours / base).toFixed(2)}×` : '', `${meets} (≥ 0.8× and ≥ 5,000/s)`);
      const [mine, theirs] = [median(cpu[name]), cpu.memory ? median(cpu.memory) : NaN];
      console.error(`bench: state: ${name}: backend CPU ${cpu[name].map((c) => c.toFixed(0)).join(', ')} µs/request; baseline ${cpu.memory?.map((c) => c.toFixed(0)).join(', ')}`);
      row('state', `backend CPU per upload-credentials request (user + system), record on ${name === 'sqlite' ? 'SQLite' : 'MariaDB'} (median of ${rounds})`,
        `${mine.toFixed(0)} µs`, 'wxcs serve at c4af3e2 (state in memory)', `${theirs.toFixed(0)} µs`, `${(mine / theirs).toFixed(2)}×`, '');
    }
    log(`state: ${RECORDS} records, then list`);
    await fill(urls, mariadb, context.work);
    const lists = [
      ['shared folder, by name', { prefix: 'products/', limit: 100 }],
      ['shared folder, newest first', { prefix: 'products/', limit: 100, order: 'newest' }],
      ['shared folder, newest first, name filter', { prefix: 'products/', limit: 100, order: 'newest', contains: 'p0999' }],
      ['own folder (100 of the 100,100), newest first', { limit: 100, order: 'newest' }],
    ];
    for (const name of ['sqlite', 'mariadb'].filter((n) => urls[n])) {
      for (const [what, body] of lists) {
        const figures = wrk(HERE, `${urls[name]}/api/storage/list`, 1, seconds, 'list.lua', { WXCS_LIST_BODY: JSON.stringify(body) });
        console.error(`bench: state: list on ${name}, ${what}: p50 ${figures.p50} p99 ${figures.p99} ms, ${figures.errors} non-2xx`);
        row('state', `list p50 / p99, ${RECORDS.toLocaleString('en')} records on ${name === 'sqlite' ? 'SQLite' : 'MariaDB'}: ${what}, 100 a page`,
          `${figures.p50.toFixed(2)} / ${figures.p99.toFixed(2)} ms`, '', '', '', `${figures.p99 < 20 && !figures.errors ? 'yes' : 'no'} (p99 < 20 ms)`);
      }
    }
  } finally {
    mariadb?.stop();
  }
}
