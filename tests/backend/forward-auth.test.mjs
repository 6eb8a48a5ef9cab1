// Forward auth against a real app with real sessions: an Express app with express-session,
// run here, whose /auth endpoint says who the session (or an API key) belongs to. `wxcs
// serve --auth-url` in front of the real emulator: log in → upload; log out → refused once
// the cache expires; the app down or slow → 503; only Cookie and Authorization reach the
// app; the cache stays bounded under 10,000 distinct credentials.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import express from 'express';
import session from 'express-session';
import { backend, emulator, freePort, rssKib, upload } from './support.mjs';

/** The app: sessions by cookie, an /auth endpoint, and a record of what /auth received. */
function app() {
  const state = { seen: [], calls: new Map(), slow: false };
  const server = express();
  server.use(express.json());
  server.use(session({ secret: 'test-only-session-secret', resave: false, saveUninitialized: false }));
  server.post('/login', (req, res) => {
    req.session.user = req.body.user;
    res.json({ ok: true });
  });
  server.post('/logout', (req, res) => req.session.destroy(() => res.json({ ok: true })));
  server.get('/auth', async (req, res) => {
    state.seen.push(Object.keys(req.headers));
    const key = `${req.headers.authorization ?? ''}|${req.headers.cookie ?? ''}`;
    state.calls.set(key, (state.calls.get(key) ?? 0) + 1);
    if (state.slow) await new Promise((resolve) => setTimeout(resolve, 3000));
    if (req.session.user) return res.json({ uid: req.session.user, roles: req.session.user === 'ed' ? ['editor'] : [] });
    const apiKey = /^Bearer (key-\d+)$/.exec(req.headers.authorization ?? '');
    if (apiKey) return res.json({ uid: apiKey[1] });
    res.status(401).json({ error: 'not signed in' });
  });
  return { server, state };
}

const run = {};

before(async () => {
  run.app = app();
  const port = await freePort();
  run.http = await new Promise((resolve) => { const s = run.app.server.listen(port, '127.0.0.1', () => resolve(s)); });
  run.origin = `http://127.0.0.1:${port}`;
  run.emu = await emulator();
  run.wxcs = await backend(run.emu.wx, {
    WXCS_AUTH_URL: `${run.origin}/auth`, WXCS_AUTH_CACHE_SECONDS: '1', WXCS_AUTH_TIMEOUT: '1', WXCS_RATE_PER_MINUTE: '100000',
  });
});

after(() => {
  run.wxcs?.stop();
  run.emu?.stop();
  run.http?.close();
});

/** Logs in at the app; the session cookie. */
async function login(user) {
  const response = await fetch(`${run.origin}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) });
  return response.headers.get('set-cookie').split(';')[0];
}

const credentials = (cookie) => fetch(`${run.wxcs.url}/api/storage/upload-credentials`, {
  method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{"path":"a.png"}',
});

test('logged in at the app, the session uploads into its own folder; logged out, it is refused once the cache expires', async () => {
  const cookie = await login('alice');
  const { status, link } = await upload(run.wxcs.url, { cookie }, 'hello.txt', Buffer.from('hello'));
  assert.equal(status, 204, JSON.stringify(link));
  assert.equal(link.key, 'users/alice/hello.txt');
  await fetch(`${run.origin}/logout`, { method: 'POST', headers: { cookie } });
  assert.equal((await credentials(cookie)).status, 200, 'within the 1 s cache the answer stands');
  await new Promise((resolve) => setTimeout(resolve, 1300));
  const refused = await credentials(cookie);
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).code, 'UNAUTHORIZED');
});

test('only the request\'s Cookie and Authorization reach the app', async () => {
  const cookie = await login('bob');
  run.app.state.seen.length = 0;
  const response = await fetch(`${run.wxcs.url}/api/storage/upload-credentials`, {
    method: 'POST',
    headers: {
      cookie, authorization: 'Basic Ym9iOnNlY3JldA==', 'content-type': 'application/json', 'x-secret-header': 'leak',
      'x-forwarded-for': '10.0.0.1', 'user-agent': 'page/1.0', 'x-wx-openid': 'oSomeone', 'accept-language': 'zh-CN',
    },
    body: '{"path":"b.png"}',
  });
  assert.equal(response.status, 200);
  assert.equal(run.app.state.seen.length, 1);
  const received = run.app.state.seen[0];
  for (const name of ['cookie', 'authorization']) assert.ok(received.includes(name), `${name} reached the app`);
  const others = received.filter((name) => !['cookie', 'authorization', 'host', 'accept', 'accept-encoding', 'connection'].includes(name));
  assert.deepEqual(others, [], 'nothing else of the request reaches the app');
});

test('a cookie from a page whose origin is not allowed is not forwarded', async () => {
  const cookie = await login('carol');
  run.app.state.seen.length = 0;
  const response = await fetch(`${run.wxcs.url}/api/storage/upload-credentials`, {
    method: 'POST', headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{"path":"c.png"}',
  });
  assert.equal(response.status, 401, 'no credential but the cookie, which is not honoured');
  assert.equal(run.app.state.seen.length, 0, 'the app is not even asked');
});

test('the app slow or down is a 503 with a code, never a 200 and never a 401', async () => {
  run.app.state.slow = true;
  const cookie = await login('dave');
  let started = Date.now();
  const slow = await credentials(cookie);
  assert.equal(slow.status, 503);
  assert.equal((await slow.json()).code, 'SERVER');
  assert.ok(Date.now() - started < 2500, `answered in ${Date.now() - started} ms`);
  run.app.state.slow = false;
  const port = await freePort();
  const down = await backend(run.emu.wx, { WXCS_AUTH_URL: `http://127.0.0.1:${port}/auth`, WXCS_AUTH_TIMEOUT: '1' });
  try {
    started = Date.now();
    const response = await fetch(`${down.url}/api/storage/upload-credentials`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{"path":"d.png"}',
    });
    assert.equal(response.status, 503);
    assert.equal((await response.json()).code, 'SERVER');
    assert.ok(Date.now() - started < 2500);
  } finally {
    down.stop();
  }
});

test('the cache stays bounded under 6,000 distinct credentials (it keeps 4,096)', async () => {
  const DISTINCT = 6000;
  const cached = await backend(run.emu.wx, {
    WXCS_AUTH_URL: `${run.origin}/auth`, WXCS_AUTH_CACHE_SECONDS: '600', WXCS_RATE_PER_MINUTE: '100000',
  });
  try {
    const call = (n) => fetch(`${cached.url}/api/storage/upload-credentials`, {
      method: 'POST', headers: { authorization: `Bearer key-${n}`, 'content-type': 'application/json' }, body: '{"path":"k.png"}',
    }).then((r) => r.status);
    const pass = async () => {
      let next = 0;
      const statuses = [];
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < DISTINCT) statuses.push(await call(next++));
      }));
      return statuses;
    };
    // Every answer 200; else how many of each other status, which says what went wrong.
    const allOk = (statuses) => {
      const others = {};
      for (const s of statuses) if (s !== 200) others[s] = (others[s] ?? 0) + 1;
      assert.deepEqual(others, {}, 'statuses other than 200, with their counts');
    };
    const appCalls = () => [...run.app.state.calls.entries()].filter(([key]) => key.startsWith('Bearer key-')).reduce((sum, [, n]) => sum + n, 0);
    const rssBefore = rssKib(cached.pid);
    const before = appCalls();
    allOk(await pass());
    const first = appCalls() - before;
    assert.equal(first, DISTINCT, 'every new credential asks the app');
    allOk(await pass());
    const second = appCalls() - before - first;
    // At most 4,096 answers are kept: at least the rest must be asked again.
    assert.ok(second >= DISTINCT - 4096, `the second pass asked the app ${second} times: the cache kept more than 4,096`);
    const grew = rssKib(cached.pid) - rssBefore;
    assert.ok(grew < 64 * 1024, `the backend grew ${grew} KiB`);
  } finally {
    cached.stop();
  }
});

// The README's forward-auth route (Signing users in → An Express or Django app), as
// written, in an app of its own: a session signs in with its ID and roles, none is 401.
test('the README\'s whoami route signs sessions in', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const at = readme.indexOf('**An Express or Django app with sessions (forward auth).**');
  const route = readme.slice(at).match(/```js\n([\s\S]*?)```/)[1];
  const app = express();
  app.use(express.json());
  app.use(session({ secret: 'test-only-session-secret', resave: false, saveUninitialized: false }));
  app.post('/login', (req, res) => { req.session.user = req.body.user; res.json({ ok: true }); });
  new Function('app', route)(app);
  const port = await freePort();
  const http = await new Promise((resolve) => { const s = app.listen(port, '127.0.0.1', () => resolve(s)); });
  const wxcs = await backend(run.emu.wx, { WXCS_AUTH_URL: `http://127.0.0.1:${port}/internal/whoami` });
  try {
    const signIn = await fetch(`http://127.0.0.1:${port}/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { id: 42, roles: ['editor'] } }),
    });
    const cookie = signIn.headers.get('set-cookie').split(';')[0];
    const { status, link } = await upload(wxcs.url, { cookie }, 'readme.txt', Buffer.from('hi'));
    assert.equal(status, 204, JSON.stringify(link));
    assert.equal(link.key, 'users/42/readme.txt');
    const anonymous = await fetch(`${wxcs.url}/api/storage/upload-credentials`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":"a.png"}',
    });
    assert.equal(anonymous.status, 401);
  } finally {
    wxcs.stop();
    http.close();
  }
});
