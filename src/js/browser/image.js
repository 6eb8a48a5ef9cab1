// `wx-cloud-storage/image` in browsers: phone photos made smaller before they leave the
// phone. Decoded by createImageBitmap (the EXIF orientation applied once, so the pixels
// come out upright and the new file carries no orientation tag to apply again), resized
// and encoded on an OffscreenCanvas in a worker where the browser has one (else on the
// main thread), never sent larger than the photo was. No wasm: the browser's own codecs do
// the work. The logic is ./image-core.js.
//
//   import { images, thumbnail } from 'wx-cloud-storage/image';
//   const storage = new StorageClient({ endpoint, images: images() });
//   const { image } = await storage.upload(file, 'photos/a.jpg', { image: { maxWidth: 1920, maxHeight: 1920 } });
import { HEAD, TYPES, defaultsOf, makeImages, settings, sniff } from '../shared/image-core.js';
import { invalid } from '../shared/options.js';
import { offMainThread } from './worker.js';

/**
 * `blob` decoded upright, scaled to fit `maxWidth` × `maxHeight` and encoded as `type`:
 * `{ blob, width, height, originalWidth, originalHeight }`, or `{ error }` when the browser
 * cannot decode it. Self-contained (it names nothing outside itself): the worker runs its
 * source. On a canvas element where there is no OffscreenCanvas (main thread only).
 */
async function resample({ blob, type, maxWidth, maxHeight, quality }) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch (_) {
    // A browser that does not know the option (it applies EXIF by default), or a photo it cannot decode.
    try {
      bitmap = await createImageBitmap(blob);
    } catch (__) {
      return { error: 'cannot-decode' };
    }
  }
  const scale = Math.min(1, maxWidth / bitmap.width, maxHeight / bitmap.height);
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d');
  // JPEG has no transparency: transparent pixels become white, not black.
  if (type === 'image/jpeg') {
    context.fillStyle = '#fff';
    context.fillRect(0, 0, width, height);
  }
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(bitmap, 0, 0, width, height);
  const result = { width, height, originalWidth: bitmap.width, originalHeight: bitmap.height };
  bitmap.close();
  result.blob = canvas.convertToBlob
    ? await canvas.convertToBlob({ type, quality })
    : await new Promise((done) => canvas.toBlob(done, type, quality));
  return result;
}

/** In the worker: only where it has OffscreenCanvas (else the main thread takes the photo). */
async function resampleInWorker(message) {
  if (typeof OffscreenCanvas !== 'function' || typeof createImageBitmap !== 'function') throw new Error('no OffscreenCanvas');
  return resample(message);
}

const EXTENSIONS = { 'image/jpeg': '.jpg', 'image/png': '.png', 'image/webp': '.webp' };

/** What a photo of `type` becomes when no type is asked: its own, or the nearest one a browser encodes. */
const outputType = (type) => (TYPES.includes(type) ? type : type === 'image/bmp' || type === 'image/gif' ? 'image/png' : 'image/jpeg');

/** `file`'s name with the extension of `type`. */
function renamed(file, type) {
  const name = typeof file.name === 'string' && file.name ? file.name : 'image';
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name) + (EXTENSIONS[type] || '');
}

const decoders = {};
/** The one decoder (and worker) of each kind: in a worker where it can be, or on the main thread. */
function decoder(useWorker) {
  const onMain = async (message) => (typeof createImageBitmap === 'function' ? resample(message) : { error: 'unsupported-browser' });
  return (decoders[useWorker] ??= offMainThread(resampleInWorker, [resample], onMain, useWorker));
}

function checkBlob(file, what) {
  if (typeof Blob === 'undefined' || !(file instanceof Blob)) throw invalid(`${what}: file must be a Blob or File`);
}

/** A Blob's first HEAD bytes, for `sniff`. */
const head = async (file) => new Uint8Array(await file.slice(0, HEAD).arrayBuffer());

/**
 * The image step for `new StorageClient({ images: images() })`. An upload asks for it with
 * `image: true` (the defaults given here) or `image: { maxWidth, maxHeight, quality, type }`,
 * and its result then carries `image: { width, height, size, type, changed, reason?,
 * original }`. Options: the defaults of those four, and `worker` (default true): decode
 * and encode in a worker where the browser can (OffscreenCanvas), else on the main thread.
 */
export function images(options = {}) {
  const defaults = defaultsOf(options, ['worker']);
  const worker = options.worker !== undefined ? options.worker : true;
  if (typeof worker !== 'boolean') throw invalid('images options: worker must be true or false');
  const run = decoder(worker);
  return makeImages(defaults, {
    types: TYPES,
    info(file) {
      checkBlob(file, 'upload');
      return { size: file.size, type: file.type };
    },
    head,
    async resample(file, _info, type, { maxWidth, maxHeight, quality, type: asked }) {
      const made = await run({ blob: file, type: asked || outputType(type), maxWidth, maxHeight, quality });
      if (made.error) return made;
      const sent = new File([made.blob], renamed(file, made.blob.type), { type: made.blob.type, lastModified: file.lastModified || Date.now() });
      return { ...made, file: sent, size: sent.size, type: sent.type };
    },
  });
}

/**
 * A small preview of an image, made off the main thread where the browser can (the page
 * never decodes the full photo): `{ url, width, height, size }`, `url` an object URL for an
 * `<img>` (call `URL.revokeObjectURL(url)` when done). Upright, at most `maxWidth` ×
 * `maxHeight` (default 256 × 256); JPEG for a JPEG, PNG for the rest (keeps transparency).
 */
export async function thumbnail(file, { maxWidth = 256, maxHeight = 256, worker = true } = {}) {
  if (typeof worker !== 'boolean') throw invalid('thumbnail options: worker must be true or false');
  checkBlob(file, 'thumbnail(file)');
  settings({ maxWidth, maxHeight }, {});
  const type = sniff(await head(file)) || file.type;
  if (!type.startsWith('image/')) throw invalid('thumbnail(file): the file is not an image');
  const made = await decoder(worker)({ blob: file, type: type === 'image/jpeg' ? 'image/jpeg' : 'image/png', maxWidth, maxHeight, quality: 0.7 });
  if (made.error) throw invalid(`thumbnail(file): this browser cannot decode ${type}`);
  return { url: URL.createObjectURL(made.blob), width: made.width, height: made.height, size: made.blob.size };
}

/** An image's type by its first bytes ('' when it is not an image this module knows): HEIC, AVIF, JPEG, PNG, GIF, WebP, BMP. */
export async function imageType(file) {
  checkBlob(file, 'imageType(file)');
  return sniff(await head(file));
}
