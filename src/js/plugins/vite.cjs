// wx-cloud-storage/vite: a Vite plugin for uni-app (Vue 3), `plugins: [uni(), wxCloudStorage()]`.
// uni-app bundles npm packages and resolves them as a browser would, so on mp-weixin an app
// would get the browser build, which breaks there (no wasm emitted, `import.meta.url`). On
// mp-weixin this adds the `miniprogram` condition, which leads to the mini program build,
// and emits the wasm it loads to the default path; on every other platform it does nothing.
// CommonJS and dependency-free: uni-app loads vite.config.js as CommonJS.
'use strict';
const { CONDITION, wasmFor } = require('./bundler-shared.cjs');

/**
 * The plugin. `platform`: the uni platform to act on; default the one being built
 * (`UNI_PLATFORM`), acting only on 'mp-weixin'.
 */
function wxCloudStorage({ platform } = {}) {
  const active = () => (platform || process.env.UNI_PLATFORM) === 'mp-weixin';
  return {
    name: 'wx-cloud-storage',
    enforce: 'pre',
    config() {
      if (!active()) return undefined;
      // Listed in full: Vite 6 and later replace the defaults with what is given here.
      return { resolve: { conditions: [CONDITION, 'import', 'module', 'browser', 'default'] } };
    },
    generateBundle(_, bundle) {
      if (!active()) return;
      const ids = Object.values(bundle).flatMap((chunk) => (chunk.type === 'chunk' ? Object.keys(chunk.modules) : []));
      for (const { fileName, source } of wasmFor(ids)) this.emitFile({ type: 'asset', fileName, source });
    },
  };
}

module.exports = wxCloudStorage;
module.exports.default = wxCloudStorage;
module.exports.wxCloudStorage = wxCloudStorage;
