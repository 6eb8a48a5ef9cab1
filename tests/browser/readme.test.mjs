// The README's usage example, run as written: every ```js block after a
// `<!-- usage-example` marker becomes a <script type="module"> on a page that imports the
// built package through an import map (the no-bundler setup the README documents), with
// a file input, an image and the app's `sessionToken()`. A small loopback server plays
// the app's own server: it serves the page and pkg/, and passes /api/ to `wxcs dev`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BASE, PARTS, ROOT, colourPng, launch, loopbackServer } from './support.mjs';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/<!-- usage-example[^>]*-->\s*```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const imageExamples = [...readme.matchAll(/<!-- image-example[^>]*-->\s*```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const resumableExamples = [...readme.matchAll(/<!-- resumable-example[^>]*-->\s*```js\n([\s\S]*?)```/g)].map((m) => m[1]);

let browser;
let server;
let code = '';
// Where the page's /api/ goes: `wxcs dev`, or the 开放接口服务 backend for the resumable examples.
let api = BASE;
before(async () => {
  browser = await launch();
  server = await loopbackServer({
    files: (path) => (path.startsWith('/pkg/') ? join(ROOT, path) : null),
    async route(path, request, response) {
      if (path.startsWith('/api/')) {
        const body = await new Promise((resolve) => {
          const chunks = [];
          request.on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
        });
        const answer = await fetch(`${api}${path}`, { method: request.method, headers: request.headers, body });
        response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' });
        response.end(Buffer.from(await answer.arrayBuffer()));
        return true;
      }
      if (path !== '/') return false;
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page(code));
      return true;
    },
  });
});
after(async () => {
  await browser?.close();
  server?.close();
});

const page = (code) => `<!doctype html><meta charset="utf-8">
<script type="importmap">{"imports":{"wx-cloud-storage":"/pkg/index.js","wx-cloud-storage/image":"/pkg/image.js","wx-cloud-storage/resumable":"/pkg/resumable.js"}}</script>
<script>window.sessionToken = () => 'demo-token';</script>
<input type="file"><img alt="">
<script type="module">${code}</script>`;

/** Opens a page running `example`. */
async function open(example) {
  code = example;
  const tab = await browser.newPage();
  const logs = [];
  tab.on('console', (message) => logs.push(message.text()));
  tab.on('pageerror', (error) => logs.push(`pageerror: ${error.message}`));
  await tab.goto(`${server.origin}/`);
  return { tab, logs };
}

test('the README has the usage example in both languages, 15 lines each', () => {
  assert.equal(examples.length, 2);
  for (const code of examples) assert.equal(code.trimEnd().split('\n').length, 15);
});

for (const [i, example] of examples.entries()) {
  test(`README example ${i + 1} uploads, reports progress and shows the file by temporary URL`, async () => {
    const { tab, logs } = await open(example);
    await tab.locator('input[type=file]').setInputFiles({ name: 'readme.png', mimeType: 'image/png', buffer: colourPng(40, 30) });
    await tab
      .waitForFunction(() => document.querySelector('img').naturalWidth === 40, null, { timeout: 15000 })
      .catch((error) => assert.fail(`${error.message}\npage log:\n${logs.join('\n')}`));
    const src = await tab.locator('img').getAttribute('src');
    assert.match(decodeURIComponent(src), /\/users\/demo\/photos\/readme\.png\?sign=[0-9a-f]{32}&t=\d+$/);
    assert.equal(logs.at(-1), '100%', logs.join('\n'));
    assert.ok(!logs.some((line) => line.startsWith('pageerror')), logs.join('\n'));

    await tab.locator('input[type=file]').setInputFiles({ name: 'bad$.png', mimeType: 'image/png', buffer: colourPng(4, 4) });
    await assert.doesNotReject(async () => {
      for (let tries = 0; !logs.some((l) => l.startsWith('INVALID_KEY')); tries++) {
        if (tries > 50) throw new Error(`no INVALID_KEY in: ${logs.join('\n')}`);
        await tab.waitForTimeout(100);
      }
    });
    await tab.close();
  });
}

test('the README has the image example in both languages', () => {
  assert.equal(imageExamples.length, 2);
  assert.equal(imageExamples[0].split('\n').length, imageExamples[1].split('\n').length);
});

for (const [i, example] of imageExamples.entries()) {
  test(`README image example ${i + 1} previews, then uploads the photo resized`, async () => {
    const { tab, logs } = await open(example);
    await tab.locator('input[type=file]').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: colourPng(2400, 1800) });
    await tab
      .waitForFunction(() => document.querySelector('img').naturalWidth === 256, null, { timeout: 15000 })
      .catch((error) => assert.fail(`${error.message}\npage log:\n${logs.join('\n')}`));
    for (let tries = 0; !logs.some((l) => / → /.test(l)) && tries < 100; tries++) await tab.waitForTimeout(100);
    const line = logs.find((l) => / → /.test(l)) ?? logs.join('\n');
    const [, before, after] = line.match(/^(\d+) → (\d+) (bytes|字节) 1920×1440$/) ?? assert.fail(line);
    assert.ok(Number(after) < Number(before), line);
    await tab.close();
  });
}

test('the README has the resumable example in both languages', () => {
  assert.equal(resumableExamples.length, 2);
  assert.equal(resumableExamples[0].split('\n').length, resumableExamples[1].split('\n').length);
});

for (const [i, example] of resumableExamples.entries()) {
  test(`README resumable example ${i + 1} sends a 33 MiB video by parts`, async () => {
    api = PARTS;
    try {
      const { tab, logs } = await open(example);
      const video = Buffer.alloc(33 << 20, i + 1);
      await tab.locator('input[type=file]').setInputFiles({ name: `readme-${i}.mp4`, mimeType: 'video/mp4', buffer: video });
      for (let tries = 0; !logs.some((l) => l.startsWith('parts ')) && tries < 300; tries++) await tab.waitForTimeout(100);
      assert.match(logs.find((l) => l.startsWith('parts ')) ?? logs.join('\n'), /^parts 0 cloud:\/\/\S+\/users\/demo\/videos\/readme-\d\.mp4$/);
      assert.ok(!logs.some((line) => line.startsWith('pageerror')), logs.join('\n'));
      await tab.close();
    } finally {
      api = BASE;
    }
  });
}

test('using the package before init() throws a StorageError that says what to do', async () => {
  const { tab, logs } = await open(`
    import { StorageClient, StorageError } from 'wx-cloud-storage';
    try { new StorageClient({}); } catch (e) { console.log(e instanceof StorageError, e.code, e.message); }`);
  await tab.waitForFunction(() => true);
  for (let tries = 0; !logs.length && tries < 50; tries++) await tab.waitForTimeout(100);
  assert.match(logs[0] ?? '', /^true INVALID_ARGUMENT new StorageClient was used before the wasm was loaded: call `await init\(\)`/);
  await tab.close();
});

// The README's own-backend examples (Node and Python) check that a path and a file ID are
// the caller's; copy-paste users get exactly these checks, so they face the same attacks as
// `wxcs serve` (server/tests/security.rs).
const BACKEND_ATTACKS = [
  ['cloud://env1.b-1/users/42/a.png', true],
  ['cloud://env1.b-1/users/42/photos/头像.png', true],
  ['cloud://env1.b-1/users/42/../7/b.png', false],
  ['cloud://env1.b-1/users/42/%2e%2e/7/b.png', false],
  ['cloud://env1.b-1/users/42/..%2f7/b.png', false],
  ['cloud://env1.b-1/users/42\\..\\7\\b.png', false],
  ['cloud://env1.b-1/users/42/./a.png', false],
  ['cloud://env1.b-1/users/42/a.png?x=1', false],
  ['cloud://env1.b-1/users/42/a.png#frag', false],
  ['cloud://env1.b-1/users/42/a.png\n', false],
  ['cloud://env1.b-1/users/42//a.png', false],
  ['cloud://env1.b-1/users/420/a.png', false],
  ['cloud://env1.b-1/users/7/a.png', false],
  ['cloud://env2.b-1/users/42/a.png', false],
  ['https://env1.b-1/users/42/a.png', false],
];

/** The README block after `marker`. */
function block(marker, language) {
  const start = readme.indexOf(marker);
  const match = readme.slice(start).match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'));
  return match[1];
}

test('the README\'s Node backend refuses every file ID that is not the caller\'s', () => {
  const code = block('Node (Express):', 'js');
  const lines = code.split('\n');
  const from = lines.findIndex((l) => l.startsWith('const safe'));
  const to = lines.findIndex((l) => l.startsWith('const refused'));
  const { mine, safe } = new Function('process', `${lines.slice(from, to).join('\n')}\nreturn { mine, safe };`)({ env: { WX_ENV: 'env1' } });
  for (const [id, allowed] of BACKEND_ATTACKS) assert.equal(mine({ user: { id: 42 } }, id), allowed, JSON.stringify(id));
  for (const path of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a%2f..', undefined, 5]) assert.equal(safe(path), false, String(path));
  assert.equal(safe('photos/a.png'), true);
});

test('the README\'s Python backend refuses every file ID that is not the caller\'s', () => {
  const code = block('Python (Flask):', 'python');
  const lines = code.split('\n');
  const defs = lines.slice(lines.findIndex((l) => l.startsWith('SAFE')), lines.findIndex((l) => l.startsWith('def refused'))).join('\n');
  const program = `import json, re, sys, types
ENV = "env1"
current_user = types.SimpleNamespace(id=42)
${defs}
cases = json.load(sys.stdin)
print(json.dumps([mine(c) for c in cases["ids"]] + [safe(p) for p in cases["paths"]]))`;
  const paths = ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a%2f..', null, 5, 'photos/a.png'];
  const out = execFileSync('python3', ['-c', program], { input: JSON.stringify({ ids: BACKEND_ATTACKS.map(([id]) => id), paths }), encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), [...BACKEND_ATTACKS.map(([, allowed]) => allowed), false, false, false, false, false, false, false, true]);
});
