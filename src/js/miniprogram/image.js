// `wx-cloud-storage/image` in WeChat mini programs (the mini program build's image.js,
// CommonJS): the same options and the same result as in browsers (../image-core.js), done
// by the platform: wx.getImageInfo for the size and orientation, wx.compressImage to
// resize and compress (its output is upright, as the photo is shown).
//
//   const { images } = require('wx-cloud-storage/image');
//   const storage = new StorageClient({ endpoint, images: images() });
//   const { image } = await storage.upload(tempFilePath, 'photos/a.jpg', { image: { maxWidth: 1920 } });
/* global wx */
import { HEAD, TYPES, defaultsOf, fit, makeImages, settings, sniff } from '../shared/image-core.js';
import { fsCall, localFile, readSlice } from './files.js';

/** A wx image API as a promise (its failure: the image could not be decoded). */
const call = (method, options) => new Promise((resolve, reject) => {
  wx[method]({ ...options, success: resolve, fail: ({ errMsg } = {}) => reject(new Error(errMsg || `${method} failed`)) });
});

/** getImageInfo's width and height are the stored pixels ("不考虑旋转"): these turn them upright. */
const TURNED = ['left', 'right', 'left-mirrored', 'right-mirrored'];
async function upright(path) {
  const { width, height, orientation } = await call('getImageInfo', { src: path });
  return TURNED.includes(orientation) ? { width: height, height: width } : { width, height };
}

/** A local file's first HEAD bytes (`info`: its localFile). */
const head = ({ path, size }) => readSlice(path, 0, Math.min(HEAD, size));

/**
 * `path` made to fit `maxWidth` × `maxHeight` by wx.compressImage at `quality`:
 * `{ path, size, width, height, originalWidth, originalHeight }`. wx.compressImage keeps
 * the type (it cannot convert) and, on iOS, compresses only JPEG.
 */
async function compress(path, maxWidth, maxHeight, quality) {
  const seen = await upright(path);
  const target = fit(seen.width, seen.height, maxWidth, maxHeight);
  const options = { src: path, quality: Math.round(quality * 100) };
  // One side only (2.26.0+): the platform scales the other, so the aspect can never skew.
  if (target.width < seen.width) {
    if (target.width / seen.width <= target.height / seen.height) options.compressedWidth = target.width;
    else options.compressedHeight = target.height;
  }
  const { tempFilePath } = await call('compressImage', options);
  const made = await upright(tempFilePath);
  const { size } = await fsCall('getFileInfo', { filePath: tempFilePath });
  return { path: tempFilePath, size, ...made, originalWidth: seen.width, originalHeight: seen.height };
}

/**
 * The image step for `new StorageClient({ images: images() })`, as in browsers (options and
 * result in ../image-core.js). In mini programs the photo keeps its type: wx.compressImage
 * cannot convert, so a `type` asked for is met only by a photo that already has it.
 */
export function images(options = {}) {
  const defaults = defaultsOf(options, []);
  return makeImages(defaults, {
    types: TYPES,
    info: (file) => localFile(file, 'upload'),
    head: (file, info) => head(info),
    async resample(file, { path }, type, { maxWidth, maxHeight, quality }) {
      let made;
      try {
        made = await compress(path, maxWidth, maxHeight, quality);
      } catch (_) {
        return { error: 'cannot-decode' };
      }
      return { ...made, type, file: { tempFilePath: made.path, size: made.size } };
    },
  });
}

/**
 * A small preview of a local image: `{ url, width, height, size }`, `url` a temp file path
 * for an `<image>`, at most `maxWidth` × `maxHeight` (default 256 × 256).
 */
export async function thumbnail(file, { maxWidth = 256, maxHeight = 256 } = {}) {
  settings({ maxWidth, maxHeight }, {});
  const made = await compress(localFile(file, 'thumbnail(file)').path, maxWidth, maxHeight, 0.7);
  return { url: made.path, width: made.width, height: made.height, size: made.size };
}

/** An image's type by its first bytes ('' when it is not an image this module knows). */
export async function imageType(file) {
  return sniff(await head(localFile(file, 'imageType(file)')));
}
