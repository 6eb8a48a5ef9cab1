// Types of `wx-cloud-storage/vite` (dependency-free: the plugin's shape without Vite's types).

export interface WxCloudStorageViteOptions {
  /** The uni-app platform to act on (default: the one being built, `UNI_PLATFORM`); it acts on 'mp-weixin' only. */
  platform?: string;
}

/**
 * The uni-app Vite plugin: `plugins: [uni(), wxCloudStorage()]`. On mp-weixin it resolves
 * `wx-cloud-storage` to its mini program build and emits the wasm to
 * `miniprogram_npm/wx-cloud-storage/`; on H5 it does nothing.
 */
declare function wxCloudStorage(options?: WxCloudStorageViteOptions): { name: string; enforce: 'pre'; [hook: string]: unknown };
export default wxCloudStorage;
export { wxCloudStorage };
