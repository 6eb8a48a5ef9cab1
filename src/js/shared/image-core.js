// The image step's logic, the same on every platform (wx-cloud-storage/image in browsers,
// its mini program build): the options, an image's type by its first bytes, the size to
// aim for, and which file goes up. The platform module decodes, resizes and encodes
// (`platform.resample`), reads a file's first bytes (`platform.head`) and its size and
// type (`platform.info`, whose answer the other two are given with the file).
import { invalid } from './options.js';

/** Bytes of a file's start that `sniff` reads. */
export const HEAD = 64;
const SIDE = [1, 16384];
const OPTIONS = ['maxWidth', 'maxHeight', 'quality', 'type'];
/** Types a browser can encode (and the step can be asked for). */
export const TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const HEIC_BRANDS = ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx'];

const ascii = (bytes, from, to) => String.fromCharCode(...bytes.subarray(from, to));

/**
 * An image's MIME type by its first bytes (HEAD of them; fewer is fine), or '' when they
 * are not an image the step knows. iPhones' HEIC photos often reach a page typed '' or
 * application/octet-stream; this is how they get `image/heic`.
 */
export function sniff(bytes) {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (ascii(bytes, 0, 4) === 'GIF8') return 'image/gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'image/webp';
  if (ascii(bytes, 0, 2) === 'BM') return 'image/bmp';
  if (ascii(bytes, 4, 8) === 'ftyp') {
    // ISO BMFF: the major brand, then the compatible brands to the end of the ftyp box.
    const end = Math.min(bytes.length, ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0);
    const brands = [ascii(bytes, 8, 12)];
    for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, at + 4));
    if (brands.some((brand) => brand === 'avif' || brand === 'avis')) return 'image/avif';
    if (brands.some((brand) => HEIC_BRANDS.includes(brand))) return 'image/heic';
    if (brands.some((brand) => brand === 'mif1' || brand === 'msf1')) return 'image/heif';
  }
  return '';
}

/**
 * The settings of one upload's image step: `request` (true, or an object of the options
 * over the module's `defaults`), checked. Undefined when the upload asks for none.
 */
export function settings(request, defaults, types = TYPES) {
  if (request === undefined || request === false) return undefined;
  const given = request === true ? {} : request;
  for (const name of Object.keys(given)) {
    if (!OPTIONS.includes(name)) throw invalid(`image options: unknown option ${name}; the options are ${OPTIONS.join(', ')}`);
  }
  const read = { maxWidth: Infinity, maxHeight: Infinity, quality: 0.8, ...defaults, ...given };
  for (const name of ['maxWidth', 'maxHeight']) {
    const value = read[name];
    if (value !== Infinity && !(Number.isInteger(value) && value >= SIDE[0] && value <= SIDE[1])) {
      throw invalid(`image options: ${name} must be a whole number of pixels from ${SIDE[0]} to ${SIDE[1]}`);
    }
  }
  if (typeof read.quality !== 'number' || !(read.quality > 0 && read.quality <= 1)) {
    throw invalid('image options: quality must be a number above 0 and at most 1 (0.8 by default)');
  }
  if (read.type !== undefined && !types.includes(read.type)) {
    throw invalid(`image options: type must be ${types.join(', ')} (or left out to keep the photo's type)`);
  }
  return read;
}

/** The module's defaults (`images(options)`), checked the same way. */
export function defaultsOf(options, extraOptions) {
  if (typeof options !== 'object' || options === null) throw invalid('images(options): options must be an object');
  const defaults = {};
  for (const name of Object.keys(options)) {
    if (extraOptions.includes(name)) continue;
    if (!OPTIONS.includes(name)) throw invalid(`images options: unknown option ${name}; the options are ${[...OPTIONS, ...extraOptions].join(', ')}`);
    defaults[name] = options[name];
  }
  settings(defaults, {});
  return defaults;
}

/** `width` × `height` scaled down (never up) to fit `maxWidth` × `maxHeight`, keeping the aspect. */
export function fit(width, height, maxWidth, maxHeight) {
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * The image step for a StorageClient's `images` option, over `platform`: what
 * `StorageClient` calls before each upload. Without a step asked, it only corrects the
 * Content-Type of an image whose file says nothing useful ('' or octet-stream).
 */
export function makeImages(defaults, platform) {
  const images = {
    /** The upload pipeline's step (../shared/client.js): the file to send, its type, and the report as `image`. */
    async prepareFile(job) {
      const { file, contentType, report } = await images.prepare(job.file, job.contentType, job.image);
      Object.assign(job, { file, contentType });
      if (report) job.result.image = report;
    },
    /** `{ file, contentType, report }`: the file to send, its type, and the step's report (if asked). */
    async prepare(file, contentType, request) {
      const step = settings(request, defaults, platform.types);
      const info = platform.info(file);
      let type = info.type;
      if (step || !type || type === 'application/octet-stream') type = sniff(await platform.head(file, info)) || type;
      // The caller's Content-Type stands unless the file the step sends has another.
      if (!step) return { file, contentType: contentType || type || undefined };
      const original = { size: info.size, type };
      const keep = (reason, seen = {}) => ({
        file,
        contentType: contentType || type || undefined,
        report: { ...seen, ...original, changed: false, reason, original: { ...seen, ...original } },
      });
      if (!type.startsWith('image/')) return keep('not-an-image');
      // An animated GIF would lose its frames; it is converted only when a type is asked.
      if (type === 'image/gif' && !step.type) return keep('unsupported-type');
      const made = await platform.resample(file, info, type, step);
      if (made.error) return keep(made.error);
      const seen = { width: made.originalWidth, height: made.originalHeight };
      // Never larger than the photo, unless it was converted to the type the caller asked for.
      const converted = made.type === step.type && made.type !== type;
      if (made.size >= info.size && !converted) return keep('not-smaller', seen);
      return {
        file: made.file,
        contentType: made.type,
        report: {
          width: made.width, height: made.height, size: made.size, type: made.type, changed: true,
          original: { ...seen, ...original },
        },
      };
    },
  };
  return images;
}
