// The npm package as users get it: `npm pack` of pkg/, checked file by file, installed
// into fresh Vite and webpack 5 projects that build it unchanged, and each build loaded
// in Chromium (init() finds the .wasm the bundler emitted; the API works).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { BASE, DEMO_FILES, ROOT, launch, loopbackServer, statuses } from './support.mjs';

const work = mkdtempSync(join(tmpdir(), 'wxcs-pack-'));
const npm = (cwd, ...args) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd, encoding: 'utf8' });
let tarball;
let browser;

before(async () => {
  const [packed] = JSON.parse(npm(join(ROOT, 'pkg'), 'pack', '--json', '--pack-destination', work));
  tarball = packed;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

test('the tarball holds exactly the package files', () => {
  const files = tarball.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    'LICENSE', 'README.md', 'antd.d.ts', 'antd.js', 'bundler-shared.cjs', 'components.d.ts', 'element-plus.d.ts', 'element-plus.js', 'image.d.ts', 'image.js', 'index.d.ts', 'index.js', 'index.js.map', 'integrity.d.ts', 'integrity.js',
    'miniprogram/image.d.ts', 'miniprogram/image.js', 'miniprogram/index.d.ts', 'miniprogram/index.js',
    'miniprogram/integrity.d.ts', 'miniprogram/integrity.js', 'miniprogram/package.json', 'miniprogram/resumable.d.ts', 'miniprogram/resumable.js',
    'miniprogram/wx_cloud_storage_bg.wasm.br', 'miniprogram/wx_cloud_storage_integrity.wasm.br', 'package.json', 'resumable.d.ts', 'resumable.js',
    'taro/index.js', 'taro/package.json', 'vite.cjs', 'vite.d.ts',
    'wx_cloud_storage_bg.wasm', 'wx_cloud_storage_integrity.wasm',
  ]);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'pkg', 'package.json'), 'utf8'));
  assert.equal(manifest.miniprogram, 'miniprogram', '构建 npm copies that folder');
  const mp = JSON.parse(readFileSync(join(ROOT, 'pkg', 'miniprogram', 'package.json'), 'utf8'));
  assert.equal(mp.type, 'commonjs');
  const compressed = readFileSync(join(ROOT, 'pkg', 'miniprogram', 'wx_cloud_storage_bg.wasm.br'));
  assert.ok(brotliDecompressSync(compressed).equals(readFileSync(join(ROOT, 'pkg', 'wx_cloud_storage_bg.wasm'))), 'one wasm for both');
  assert.equal(manifest.name, 'wx-cloud-storage');
  assert.equal(manifest.type, 'module');
  for (const entry of ['.', './integrity', './image', './resumable']) {
    assert.deepEqual(Object.keys(manifest.exports[entry]), ['types', 'miniprogram', 'default'], `${entry}: types first, then the mini program build for bundlers that ask (uni-app, Taro)`);
    assert.ok(manifest.exports[entry].miniprogram.startsWith('./miniprogram/'));
  }
  assert.equal(JSON.parse(readFileSync(join(ROOT, 'pkg', 'taro', 'package.json'), 'utf8')).type, 'commonjs', 'Taro requires taro/index.js');
  assert.equal(manifest.sideEffects, false);
});

test('the bundler plugins load as CommonJS and emit only the wasm a bundle loads', async () => {
  const require = createRequire(import.meta.url);
  const vite = require(join(ROOT, 'pkg', 'vite.cjs'));
  assert.equal(vite.default, vite);
  const plugin = vite({ platform: 'mp-weixin' });
  assert.deepEqual(plugin.config().resolve.conditions[0], 'miniprogram');
  assert.equal(vite({ platform: 'h5' }).config(), undefined, 'nothing on H5');
  const emitted = [];
  const bundle = { a: { type: 'chunk', modules: { '/app/node_modules/wx-cloud-storage/miniprogram/integrity.js': {}, '/app/src/x.js': {} } } };
  plugin.generateBundle.call({ emitFile: (file) => emitted.push(file.fileName) }, {}, bundle);
  assert.deepEqual(emitted, ['miniprogram_npm/wx-cloud-storage/wx_cloud_storage_integrity.wasm.br'], 'the integrity wasm when that module is bundled');
  assert.equal(typeof require(join(ROOT, 'pkg', 'taro', 'index.js')), 'function');
});

// One wasm for browsers and WeChat mini programs (shared/design/miniprogram.md): iOS WeChat
// refuses a module that exports a Global, and WXWebAssembly has no published feature table.
test('the shipped wasm files export no Globals and are WebAssembly 1.0 (MVP) only', async () => {
  const { default: binaryen } = await import(join(ROOT, 'tools', 'node_modules', 'binaryen', 'index.js'));
  for (const file of ['wx_cloud_storage_bg.wasm', 'wx_cloud_storage_integrity.wasm']) {
    const bytes = readFileSync(join(ROOT, 'pkg', file));
    const kinds = new Set(WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.kind));
    assert.deepEqual([...kinds].sort(), ['function', 'memory'], file);
    const module = binaryen.readBinary(bytes);
    module.setFeatures(binaryen.Features.MVP);
    assert.ok(module.validate(), `${file} validates with MVP features only`);
    module.dispose();
  }
});

test('the package holds no secret, token or signing key', () => {
  for (const file of tarball.files.map((f) => f.path)) {
    const text = readFileSync(join(ROOT, 'pkg', file), 'latin1');
    for (const secret of ['emulator-app-secret', 'wxcs-emulator-cos-secret-key', 'AKIDwxcsEmulatorSecretId', 'demo-token']) {
      assert.ok(!text.includes(secret), `${file} contains ${secret}`);
    }
  }
});

// The page both projects build: init, then the API, reporting on the document title.
// The optional subpath too: its own wasm must be emitted and found beside its module.
const MAIN = `import init, { validateKey, StorageClient, StorageError } from 'wx-cloud-storage';
import { integrity } from 'wx-cloud-storage/integrity';
import { images, imageType } from 'wx-cloud-storage/image';
await init();
new StorageClient({ endpoint: '/api/storage', integrity: integrity(), images: images() });
const { crc64 } = await integrity().digest(new Blob(['123456789']), ['crc64']);
const heic = await imageType(new Blob([new Uint8Array([0, 0, 0, 16, 102, 116, 121, 112, 104, 101, 105, 99, 0, 0, 0, 0])]));
try { validateKey('a/\${filename}'); document.title = 'no error'; }
catch (e) { document.title = (e instanceof StorageError) + ' ' + e.code + ' ' + crc64 + ' ' + heic; }`;

/** Serves `dir` on loopback and returns the title the page ends with. */
async function titleOf(dir) {
  const server = await loopbackServer({ files: (path) => join(dir, path === '/' ? 'index.html' : path) });
  const page = await browser.newPage();
  try {
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => document.title !== '', null, { timeout: 15000 });
    return await page.title();
  } finally {
    await page.close();
    server.close();
  }
}

function project(name, devDependencies) {
  const dir = join(work, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  npm(dir, 'install', join(work, tarball.filename), ...devDependencies);
  writeFileSync(join(dir, 'src', 'main.js'), MAIN);
  return dir;
}

test('installs into a fresh Vite project, which builds and runs it', async () => {
  const dir = project('fresh-vite', ['vite@8']);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title></title><script type="module" src="/src/main.js"></script>');
  execFileSync(join(dir, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: dir });
  const assets = readdirSync(join(dir, 'dist', 'assets'));
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 2, `both .wasm files are emitted: ${assets}`);
  assert.equal(await titleOf(join(dir, 'dist')), 'true INVALID_KEY 11051210869376104954 image/heic');
});

test('installs into a fresh webpack 5 project, which builds and runs it', async () => {
  const dir = project('fresh-webpack', ['webpack@5', 'webpack-cli@6']);
  writeFileSync(join(dir, 'webpack.config.js'), `export default {
  mode: 'production', entry: './src/main.js', experiments: { topLevelAwait: true },
  output: { path: new URL('./dist', import.meta.url).pathname, filename: 'main.js', publicPath: '/' },
};`);
  execFileSync(join(dir, 'node_modules', '.bin', 'webpack'), [], { cwd: dir, stdio: 'pipe' });
  writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title></title><script src="/main.js"></script>');
  assert.equal(readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.wasm')).length, 2, 'both .wasm files are emitted');
  assert.equal(await titleOf(join(dir, 'dist')), 'true INVALID_KEY 11051210869376104954 image/heic');
});

// The README's two component snippets (the same code in both languages), each the whole App
// of a fresh Vite project that installs the tarball beside the component library; built, then
// used in Chromium through the component's own file input against the real backend.
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const snippet = (marker, lang) => {
  const found = [...README.matchAll(new RegExp(`<!-- ${marker}[^>]*-->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);
  assert.equal(found.length, 2, `${marker}: one in each language`);
  assert.equal(found[0], found[1], `${marker}: the same code in both languages`);
  return found[0];
};
// The app's StorageClient, as in the README's Usage (endpoint from the page's address).
const STORAGE_JS = `import init, { StorageClient } from 'wx-cloud-storage';
await init();
const endpoint = new URLSearchParams(location.search).get('endpoint');
export const storage = new StorageClient({ endpoint, headers: { Authorization: 'Bearer demo-token' } });`;

const COMPONENT_APPS = {
  'element-plus': {
    packages: ['vite@^8.3.8', '@vitejs/plugin-vue@^6.0.11', 'vue@^3.5.45', 'element-plus@2.14.8'],
    plugin: ['@vitejs/plugin-vue', 'vue'],
    files: {
      'src/App.vue': snippet('element-plus-example', 'vue'),
      'src/main.js': `import { createApp } from 'vue';\nimport ElementPlus from 'element-plus';\nimport 'element-plus/dist/index.css';\nimport App from './App.vue';\ncreateApp(App).use(ElementPlus).mount('#app');`,
    },
    done: '.el-upload-list__item.is-success',
  },
  antd: {
    packages: ['vite@^8.3.8', '@vitejs/plugin-react@^6.3.0', 'react@^19.3.1', 'react-dom@^19.3.1', 'antd@6.6.8'],
    plugin: ['@vitejs/plugin-react', 'react'],
    files: {
      'src/App.jsx': snippet('antd-example', 'jsx'),
      'src/main.jsx': `import { createRoot } from 'react-dom/client';\nimport App from './App.jsx';\ncreateRoot(document.getElementById('app')).render(<App />);`,
    },
    done: '.ant-upload-list-item-done',
    failed: '.ant-upload-list-item-error',
  },
};

for (const [name, app] of Object.entries(COMPONENT_APPS)) {
  test(`the README's ${name} snippet: a fresh Vite project with the tarball builds it, and its component uploads`, async () => {
    const dir = join(work, `fresh-${name}`);
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `fresh-${name}`, private: true, type: 'module' }));
    npm(dir, 'install', join(work, tarball.filename), ...app.packages);
    for (const [file, text] of Object.entries({ ...app.files, 'src/storage.js': STORAGE_JS })) writeFileSync(join(dir, file), text);
    const main = Object.keys(app.files).find((f) => f.includes('main'));
    writeFileSync(join(dir, 'index.html'), `<!doctype html><title>${name}</title><div id="app"></div><script type="module" src="/${main}"></script>`);
    writeFileSync(join(dir, 'vite.config.js'), `import plugin from '${app.plugin[0]}';\nexport default { plugins: [plugin()] };`);
    execFileSync(join(dir, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: dir });

    const server = await loopbackServer({ files: (path) => join(dir, 'dist', path === '/' ? 'index.html' : path) });
    const page = await browser.newPage();
    try {
      await page.goto(`${server.origin}/?endpoint=${encodeURIComponent(`${BASE}/api/storage`)}`);
      const stamp = `${name}-${Date.now()}`;
      await page.locator('input[type=file]').setInputFiles([
        { name: `${stamp}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`hello from ${name}`) },
        { name: `${stamp}$bad.txt`, mimeType: 'text/plain', buffer: Buffer.from('x') },
      ]);
      await page.locator(app.done, { hasText: `${stamp}.txt` }).waitFor();
      if (app.failed) await page.locator(app.failed, { hasText: `${stamp}$bad.txt` }).waitFor();
      else await page.locator('.el-upload-list__item', { hasText: `${stamp}$bad.txt` }).waitFor({ state: 'detached' });
      assert.deepEqual(await statuses([`${DEMO_FILES}/uploads/${stamp}.txt`]), [0], 'stored where path() said');
    } finally {
      await page.close();
      server.close();
    }
  });
}
