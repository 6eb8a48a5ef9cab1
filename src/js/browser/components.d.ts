// Types shared by `wx-cloud-storage/element-plus` and `wx-cloud-storage/antd`.
import type { ImageOptions } from './index.js';

export interface UploadComponentOptions {
  /** The storage path of each file the component hands over, e.g. `(file) => \`users/42/${file.name}\``. Checked by the key rules (a bad one is the file's INVALID_KEY error). */
  path: (file: File) => string | Promise<string>;
  /** Resize and compress images first (needs the client's `images`): as `upload`'s `image` option. */
  image?: ImageOptions | boolean;
  /** Uploads at a time, however many files are dropped at once: 1 to 16, default 3. */
  concurrency?: number;
}

/** A progress event as both components read it. */
export interface UploadPercent {
  /** 0 to 100: bytes sent of the file sent. */
  percent: number;
  loaded: number;
  total: number;
}
