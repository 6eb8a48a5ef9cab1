// The image bench's page: the same camera-sized photos made smaller by wx-cloud-storage/image
// (decoded and encoded in a worker) and by compressorjs (the library @uppy/compressor wraps,
// on the main thread), with the same settings, in the same browser. Photos come from the
// test suite's generator (photos.js): camera-like JPEGs at a phone's quality.
import { images } from '/pkg/image.js';
import Compressor from '/peers/compressor.js';
import { cameraJpeg, withLongestTask } from '/photos.js';

const SETTINGS = { maxWidth: 1920, maxHeight: 1920, quality: 0.8 };
const step = images();
let photos = [];

const COMPRESSORS = {
  ours: async (file) => (await step.prepare(file, undefined, SETTINGS)).file,
  compressorjs: (file) => new Promise((success, error) => {
    // strict (the default): the original when the result is larger, as ours does.
    new Compressor(file, { ...SETTINGS, mimeType: file.type, success, error });
  }),
};

window.imageBench = {
  /** Makes the photos (`[[width, height], ...]`): their sizes in bytes. */
  async setup(shapes) {
    photos = [];
    for (const [i, [width, height]] of shapes.entries()) photos.push(await cameraJpeg(width, height, i + 1));
    return photos.map((p) => p.size);
  },
  /** One pass of `variant` over every photo: per photo `{ ms, bytes, longest }`. */
  async run(variant) {
    const out = [];
    for (const photo of photos) {
      const { result, ms, longest } = await withLongestTask(() => COMPRESSORS[variant](photo));
      out.push({ ms, bytes: result.size, longest });
    }
    return out;
  },
};
window.imageBenchReady = true;
