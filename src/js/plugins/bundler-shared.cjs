// What the bundler plugins (vite.cjs for uni-app, taro/index.js for Taro) share: where the
// mini program build's wasm files are, which of them an app's bundle needs, and where they go.
// Shipped at the package's root.
'use strict';
const { readFileSync, realpathSync } = require('node:fs');
const { join } = require('node:path');


/**
 * Where native 构建 npm puts the wasm, and so where the plugins emit it: the path the mini
 * program build loads by default (DEFAULT_WASM_PATH), relative to the output's root.
 */
const OUT = 'miniprogram_npm/wx-cloud-storage/';

/** Each module of the mini program build that loads a wasm, and that wasm. */
const WASM = [
  { module: 'index.js', file: 'wx_cloud_storage_bg.wasm.br' },
  { module: 'integrity.js', file: 'wx_cloud_storage_integrity.wasm.br' },
];

/**
 * A test of whether a bundled module's id (a path, perhaps with a query or a plugin's
 * prefix) is the mini program build's `module`: by this package's real path (bundlers follow a linked
 * package, as `file:` dependencies are, to it) or by its place under node_modules.
 */
function matcher(module) {
  const own = realpathSync(join(__dirname, 'miniprogram', module));
  const installed = new RegExp(`wx-cloud-storage[\\\\/]miniprogram[\\\\/]${module.replace('.', '\\.')}$`);
  return (id) => {
    const path = id.replace(/[?#].*$/, '');
    return path.endsWith(own) || installed.test(path);
  };
}

/** The wasm files the bundled modules (`ids`: their paths) load: `{ fileName, source }` each. */
function wasmFor(ids) {
  return WASM.filter(({ module }) => ids.some(matcher(module))).map(({ file }) => ({
    fileName: OUT + file,
    source: readFileSync(join(__dirname, 'miniprogram', file)),
  }));
}

/** The resolver condition that leads to the mini program build (package.json `exports`). */
const CONDITION = 'miniprogram';

module.exports = { CONDITION, OUT, wasmFor };
