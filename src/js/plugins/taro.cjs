// wx-cloud-storage/taro: a Taro plugin, `plugins: ['wx-cloud-storage/taro']` in config/index.
// Taro bundles npm packages and resolves them as a browser would, so on weapp an app would
// get the browser build, which breaks there (`document.baseURI` read at start). On weapp this
// adds the `miniprogram` condition, which leads to the mini program build, and emits the wasm
// it loads to the default path, for the webpack 5 runner and the Vite runner; on every other
// platform it does nothing. Shipped as taro/index.js (CommonJS): Taro resolves plugins with
// the `resolve` package, which reads no `exports` map.
'use strict';
const { CONDITION, wasmFor } = require('../bundler-shared.cjs');
const wxCloudStorageVite = require('../vite.cjs');

const NAME = 'wx-cloud-storage';

/** Emits the wasm files the compilation's modules load (webpack 5, from the compiler's own API). */
class EmitWasm {
  apply(compiler) {
    const { Compilation, sources } = compiler.webpack;
    compiler.hooks.thisCompilation.tap(NAME, (compilation) => {
      compilation.hooks.processAssets.tap({ name: NAME, stage: Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        const ids = [...compilation.modules].map((module) => module.resource || '').filter(Boolean);
        for (const { fileName, source } of wasmFor(ids)) compilation.emitAsset(fileName, new sources.RawSource(source));
      });
    });
  }
}

module.exports = (ctx) => {
  const active = () => process.env.TARO_ENV === 'weapp';
  ctx.modifyWebpackChain(({ chain }) => {
    if (!active()) return;
    // '...': webpack's own conditions after ours.
    chain.merge({ resolve: { conditionNames: [CONDITION, '...'] } });
    chain.plugin(NAME).use(EmitWasm);
  });
  // The Vite runner (Taro 4): the same plugin as uni-app's, keyed to Taro's platform.
  if (typeof ctx.modifyViteConfig === 'function') {
    ctx.modifyViteConfig(({ viteConfig }) => {
      if (!active()) return;
      viteConfig.plugins = [...(viteConfig.plugins || []), wxCloudStorageVite({ platform: 'mp-weixin' })];
    });
  }
};
