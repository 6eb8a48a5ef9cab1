// Taro's build config. 'wx-cloud-storage/taro': on weapp, wx-cloud-storage resolves to its
// mini program build and its wasm is emitted to miniprogram_npm/wx-cloud-storage/; on H5 it
// does nothing.
module.exports = function config() {
  return {
    projectName: 'wx-cloud-storage-taro-example',
    designWidth: 750,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'src',
    outputRoot: `dist/${process.env.TARO_ENV}`,
    plugins: ['wx-cloud-storage/taro'],
    // The credential backend: `wxcs dev` on this computer unless WXCS_ENDPOINT says otherwise.
    defineConstants: { WXCS_ENDPOINT: JSON.stringify(process.env.WXCS_ENDPOINT || 'http://127.0.0.1:8787/api/storage') },
    framework: 'react',
    compiler: 'webpack5',
    mini: {},
    h5: { publicPath: './', router: { mode: 'hash' } },
  };
};
