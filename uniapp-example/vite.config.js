// uni-app's Vite config (CommonJS, as uni-app's preset loads it). wxCloudStorage(): on
// mp-weixin, wx-cloud-storage resolves to its mini program build and its wasm is emitted to
// miniprogram_npm/wx-cloud-storage/; on H5 it does nothing.
const { defineConfig } = require('vite');
const uni = require('@dcloudio/vite-plugin-uni').default;
const wxCloudStorage = require('wx-cloud-storage/vite');

module.exports = defineConfig({
  plugins: [uni(), wxCloudStorage()],
  // The credential backend: `wxcs dev` on this computer unless WXCS_ENDPOINT says otherwise.
  define: { WXCS_ENDPOINT: JSON.stringify(process.env.WXCS_ENDPOINT || 'http://127.0.0.1:8787/api/storage') },
});
