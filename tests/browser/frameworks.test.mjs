// uni-app and Taro, as a team gets them: `npm pack` of pkg/ installed into uniapp-example/
// and taro-example/ (their other packages installed by scripts/setup.sh, pinned, cached
// between runs), each built to H5 and to the WeChat mini program with the package's plugin.
// The outputs are checked for what breaks silently on a phone, then each mini program output
// runs in the mini program runtime harness (tests/miniprogram/harness.mjs) and each H5 output
// in headless Chromium, against this run's `wxcs dev`: choose, upload, temporary URL, delete.
// The README's no-plugin fallbacks are built and run the same way, from copies of the examples.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRuntime } from '../miniprogram/harness.mjs';
import { BASE, ROOT, colourPng, launch, loopbackServer, statuses } from './support.mjs';

const work = mkdtempSync(join(tmpdir(), 'wxcs-frameworks-'));
const photo = colourPng(48, 32);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every file under `dir`, relative to it. */
function files(dir) {
  return readdirSync(dir, { recursive: true }).filter((file) => statSync(join(dir, file)).isFile()).map(String);
}

const APPS = {
  'uni-app': {
    dir: join(ROOT, 'uniapp-example'),
    builds: {
      h5: { command: ['npx', '--no-install', 'uni', 'build'], out: 'dist/build/h5' },
      mp: { command: ['npx', '--no-install', 'uni', 'build', '-p', 'mp-weixin'], out: 'dist/build/mp-weixin' },
    },
    // A uni page is a Component; each event handler's name is in the data its WXML binds.
    tapper(page, root) {
      const wxml = readFileSync(join(root, 'pages', 'index', 'index.wxml'), 'utf8');
      const bound = (testid, pattern) => wxml.match(new RegExp(`data-testid="${testid}"${pattern}`))?.[1];
      const handler = (testid) => page[page.data[bound(testid, '[^>]*?bindtap="\\{\\{(\\w+)\\}\\}"')]];
      return {
        shown: (testid) => typeof handler(testid) === 'function',
        tap: (testid) => handler(testid)(tapEvent('')),
        text: (testid) => page.data[bound(testid, '[^>]*>\\{\\{(\\w+)\\}\\}')] ?? '',
      };
    },
  },
  Taro: {
    dir: join(ROOT, 'taro-example'),
    builds: {
      h5: { command: ['npx', '--no-install', 'taro', 'build', '--type', 'h5'], out: 'dist/h5' },
      mp: { command: ['npx', '--no-install', 'taro', 'build', '--type', 'weapp'], out: 'dist/weapp' },
    },
    // A Taro page renders a tree into `data.root`; its one `eh` method takes every event by node id.
    tapper(page) {
      const nodes = (node, out = []) => {
        out.push(node);
        for (const child of node.cn || []) nodes(child, out);
        return out;
      };
      const texts = () => nodes(page.data.root).filter((node) => typeof node.v === 'string').map((node) => node.v);
      const labels = { choose: '选择照片', delete: '删除' };
      const button = (testid) => page.data.root && nodes(page.data.root).find((node) => (node.cn || []).some((c) => c.v === labels[testid]));
      return {
        shown: (testid) => !!button(testid),
        tap: (testid) => page.eh(tapEvent(button(testid).sid)),
        text: (testid) => (testid === 'status' ? texts().find((t) => ['完成', '已删除', '已取消', '上传中…'].includes(t)) ?? ''
          : texts().find((t) => t.startsWith('cloud://')) ?? ''),
      };
    },
  },
};

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The README's block after `<!-- marker`, the same in both languages. */
function readmeBlock(marker) {
  const blocks = [...README.matchAll(new RegExp(`<!-- ${marker}[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);
  assert.equal(blocks.length, 2, marker);
  assert.equal(blocks[0], blocks[1], `${marker}: both languages say the same`);
  return blocks[0];
}

/** `text` with `from` replaced by `to`, which must be there. */
function replaced(text, from, to) {
  assert.ok(text.includes(from), `${from} not found`);
  return text.replace(from, to);
}

/** A copy of an example (its packages linked, not copied) changed by `edit(dir)`: the README's fallback. */
function fallbackCopy(app, edit, kind = 'fallback') {
  const dir = join(work, `${relative(ROOT, app.dir)}-${kind}`);
  cpSync(app.dir, dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) });
  symlinkSync(join(app.dir, 'node_modules'), join(dir, 'node_modules'));
  edit(dir);
  return dir;
}

/** The examples with no plugin and no fallback. */
const BARE = {
  'uni-app': (dir) => {
    const config = join(dir, 'vite.config.js');
    const text = replaced(readFileSync(config, 'utf8'), "const wxCloudStorage = require('wx-cloud-storage/vite');\n", '');
    writeFileSync(config, replaced(text, 'plugins: [uni(), wxCloudStorage()]', 'plugins: [uni()]'));
  },
  Taro: (dir) => {
    const config = join(dir, 'config', 'index.js');
    writeFileSync(config, replaced(readFileSync(config, 'utf8'), "plugins: ['wx-cloud-storage/taro'],", 'plugins: [],'));
  },
};

/** The README's fallbacks, applied to copies of the examples (in `before`). */
const FALLBACKS = {
  'uni-app': (dir) => {
    const config = join(dir, 'vite.config.js');
    let text = replaced(readFileSync(config, 'utf8'), "const wxCloudStorage = require('wx-cloud-storage/vite');\n", '');
    writeFileSync(config, replaced(text, 'plugins: [uni(), wxCloudStorage()]', 'plugins: [uni()]'));
    const page = join(dir, 'src', 'pages', 'index', 'index.vue');
    text = replaced(readFileSync(page, 'utf8'), "import init, { AbortController, StorageClient } from 'wx-cloud-storage';\n", readmeBlock('uniapp-fallback'));
    writeFileSync(page, replaced(text, 'const ready = init()', 'const ready = init(wasm)'));
    mkdirSync(join(dir, 'src', 'static', 'mp-weixin'), { recursive: true });
    cpSync(join(ROOT, 'pkg', 'miniprogram', 'wx_cloud_storage_bg.wasm.br'), join(dir, 'src', 'static', 'mp-weixin', 'wx_cloud_storage_bg.wasm.br'));
    return 'static/mp-weixin/wx_cloud_storage_bg.wasm.br';
  },
  Taro: (dir) => {
    const config = join(dir, 'config', 'index.js');
    const text = replaced(readFileSync(config, 'utf8'), "plugins: ['wx-cloud-storage/taro'],", 'plugins: [],');
    writeFileSync(config, replaced(text, '    mini: {},\n', readmeBlock('taro-fallback').replace(/^/gm, '    ')));
    return 'miniprogram_npm/wx-cloud-storage/wx_cloud_storage_bg.wasm.br';
  },
};

const tapEvent = (id) => ({
  type: 'tap', timeStamp: Date.now(), detail: { x: 1, y: 1 },
  target: { id, dataset: { sid: id } }, currentTarget: { id, dataset: { sid: id } }, touches: [], changedTouches: [],
});

let browser;
const timings = {};
before(async () => {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', join(ROOT, 'pkg'), '--json', '--pack-destination', work], { encoding: 'utf8' }));
  const env = { ...process.env, WXCS_ENDPOINT: `${BASE}/api/storage`, NODE_ENV: 'production' };
  for (const [name, app] of Object.entries(APPS)) {
    // The tarball as a user installs it, over the example's cached packages (in place of its
    // link to pkg/, until the next npm install there).
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, packed.filename)], { cwd: app.dir });
    const fallbackDir = fallbackCopy(app, (dir) => { app.fallbackWasm = FALLBACKS[name](dir); });
    // And with neither: what the plugin is for (the browser build in the mini program).
    const bareDir = fallbackCopy(app, BARE[name], 'bare');
    execFileSync(app.builds.mp.command[0], app.builds.mp.command.slice(1), { cwd: bareDir, env, stdio: 'pipe' });
    app.bare = join(bareDir, app.builds.mp.out);
    for (const [variant, dir] of [['plugin', app.dir], ['fallback', fallbackDir]]) {
      app[variant] = {};
      for (const [target, build] of Object.entries(app.builds)) {
        rmSync(join(dir, build.out), { recursive: true, force: true });
        const started = Date.now();
        execFileSync(build.command[0], build.command.slice(1), { cwd: dir, env, stdio: 'pipe' });
        timings[`${name} ${variant} ${target}`] = Date.now() - started;
        app[variant][target] = join(dir, build.out);
      }
    }
  }
  console.log('build times (ms):', JSON.stringify(timings));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

for (const [name, app] of Object.entries(APPS)) {
  test(`${name} with neither the plugin nor the fallback: the browser build lands in the mini program, broken`, () => {
    const code = files(app.bare).filter((file) => file.endsWith('.js')).map((file) => readFileSync(join(app.bare, file), 'utf8')).join('\n');
    assert.ok(!code.includes('WXWebAssembly'), 'no mini program build');
    assert.ok(['import.meta', 'require("url")', 'document.baseURI'].some((broken) => code.includes(broken)), 'browser-only code that fails on a phone');
    assert.equal(files(app.bare).filter((file) => file.endsWith('.wasm.br')).length, 0, 'no wasm for WXWebAssembly');
  });
  for (const variant of ['plugin', 'fallback']) describe(`${name}, ${variant === 'plugin' ? 'with the plugin' : 'the README\'s fallback (no plugin)'}`, () => {
    const mp = () => app[variant].mp;
    const h5 = () => app[variant].h5;
    const wasmPath = () => (variant === 'plugin' ? 'miniprogram_npm/wx-cloud-storage/wx_cloud_storage_bg.wasm.br' : app.fallbackWasm);

    test('the mini program output holds the mini program build, its wasm where init() loads it, and no browser-only code', () => {
      const out = files(mp());
      const js = out.filter((file) => file.endsWith('.js'));
      const code = js.map((file) => readFileSync(join(mp(), file), 'utf8')).join('\n');
      assert.ok(code.includes('WXWebAssembly') && code.includes(`/${wasmPath()}`), 'the mini program build is bundled, loading its wasm from there');
      for (const forbidden of ['import.meta', 'require("url")', 'document.baseURI']) {
        const where = js.filter((file) => readFileSync(join(mp(), file), 'utf8').includes(forbidden));
        assert.deepEqual(where, [], `${forbidden} in ${where}`);
      }
      assert.ok(readFileSync(join(mp(), wasmPath())).equals(readFileSync(join(ROOT, 'pkg', 'miniprogram', 'wx_cloud_storage_bg.wasm.br'))), `the package's wasm, at ${wasmPath()}`);
      assert.equal(out.filter((file) => /\.wasm/.test(file)).length, 1, 'only the wasm the app loads (no integrity wasm, no browser wasm)');
    });

    test('the H5 output holds one wasm, referenced from its JS', () => {
      const out = files(h5());
      const wasm = out.filter((file) => file.endsWith('.wasm'));
      assert.equal(wasm.length, 1, `${wasm}`);
      const name = wasm[0].split('/').pop();
      assert.ok(out.filter((file) => file.endsWith('.js')).some((file) => readFileSync(join(h5(), file), 'utf8').includes(name)), `${name} is referenced`);
      assert.ok(readFileSync(join(h5(), wasm[0])).equals(readFileSync(join(ROOT, 'pkg', 'wx_cloud_storage_bg.wasm'))), 'the browser build\'s wasm');
    });

    test('the mini program runs in the runtime harness: choose, upload, temporary URL, delete', async () => {
      const runtime = createRuntime({
        root: mp(), tmp: join(work, `${name}-${variant}-tmp`),
        choose: () => [{ tempFilePath: runtime.temp(photo, '.png'), size: photo.length, fileType: 'image' }],
      });
      const page = await runtime.app().open('pages/index/index');
      const { shown, tap, text } = app.tapper(page, mp());
      // (The framework renders after onLoad, in its own time.)
      for (let i = 0; i < 200 && !shown('choose'); i++) await sleep(25);
      const until = async (status) => {
        for (let i = 0; i < 200 && text('status') !== status; i++) await sleep(25);
        assert.equal(text('status'), status, JSON.stringify(page.data).slice(0, 2000));
      };
      tap('choose');
      await until('完成');
      const fileId = text('file-id');
      assert.match(fileId, /^cloud:\/\/.*\/users\/demo\/(uniapp|taro)\/photo-\d+\.png$/);
      const [link] = await (await fetch(`${BASE}/api/storage/download-urls`, {
        method: 'POST', headers: { Authorization: 'Bearer demo-token', 'content-type': 'application/json' },
        body: JSON.stringify({ file_ids: [fileId] }),
      })).json().then((answer) => answer.file_list);
      assert.ok(Buffer.from(await (await fetch(link.download_url)).arrayBuffer()).equals(photo), 'the photo was stored');
      tap('delete');
      await until('已删除');
      assert.deepEqual(await statuses([fileId]), [-503003], 'deleted');
    });

    test('the H5 app runs in Chromium: choose, upload, the photo by temporary URL, delete', async () => {
      const server = await loopbackServer({ files: (path) => join(h5(), path === '/' ? 'index.html' : path) });
      const tab = await browser.newPage();
      const errors = [];
      tab.on('pageerror', (error) => errors.push(error.message));
      try {
        await tab.goto(`${server.origin}/`);
        const [chooser] = await Promise.all([tab.waitForEvent('filechooser'), tab.getByTestId('choose').click()]);
        await chooser.setFiles({ name: 'photo.png', mimeType: 'image/png', buffer: photo });
        const fileId = await tab.getByTestId('file-id').textContent({ timeout: 15000 });
        assert.match(fileId, /^cloud:\/\/.*\/users\/demo\/(uniapp|taro)\/photo-\d+\.png$/);
        await tab.waitForFunction(() => document.querySelector('[data-testid=result-image] img')?.naturalWidth === 48, null, { timeout: 15000 });
        await tab.getByTestId('delete').click();
        await tab.getByTestId('status').filter({ hasText: '已删除' }).waitFor();
        assert.deepEqual(await statuses([fileId]), [-503003], 'deleted');
        assert.deepEqual(errors, []);
      } finally {
        await tab.close();
        server.close();
      }
    });
  });
}
