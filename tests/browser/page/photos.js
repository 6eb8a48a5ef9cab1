// Test photos, made in the page by the browser's own JPEG and PNG encoders (so every fixture
// is a real file of its kind), and the checks the image tests make of what came back. The
// bench (bench/) uses the same camera-like photos.

/** The upright picture every orientation fixture shows: four coloured quadrants. */
export const QUADRANTS = { topLeft: [255, 0, 0], topRight: [0, 200, 0], bottomLeft: [0, 0, 255], bottomRight: [255, 255, 0] };

function quadrant(x, y, width, height) {
  const { topLeft, topRight, bottomLeft, bottomRight } = QUADRANTS;
  if (y < height / 2) return x < width / 2 ? topLeft : topRight;
  return x < width / 2 ? bottomLeft : bottomRight;
}

/**
 * Where a stored pixel lies for the displayed pixel (x, y) of a `width` × `height` picture
 * under EXIF orientation `n` (1–8): the inverse of what a viewer applies.
 */
function storedAt(n, x, y, width, height) {
  switch (n) {
    case 2: return [width - 1 - x, y];
    case 3: return [width - 1 - x, height - 1 - y];
    case 4: return [x, height - 1 - y];
    case 5: return [y, x];
    case 6: return [y, width - 1 - x];
    case 7: return [height - 1 - y, width - 1 - x];
    case 8: return [height - 1 - y, x];
    default: return [x, y];
  }
}

/** An APP1 segment with an EXIF IFD holding only Orientation = `n` (big-endian TIFF). */
function exifOrientation(n) {
  const segment = new Uint8Array(36);
  const view = new DataView(segment.buffer);
  view.setUint16(0, 0xffe1);
  view.setUint16(2, 34); // the length after the marker
  segment.set([0x45, 0x78, 0x69, 0x66, 0, 0], 4); // "Exif\0\0"
  segment.set([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8], 10); // "MM", 42, IFD0 at 8
  view.setUint16(18, 1); // one entry
  view.setUint16(20, 0x0112); // Orientation
  view.setUint16(22, 3); // SHORT
  view.setUint32(24, 1); // one value
  view.setUint16(28, n);
  view.setUint32(32, 0); // no next IFD
  return segment;
}

async function encode(canvas, type, quality) {
  return canvas.convertToBlob({ type, quality });
}

/**
 * A real JPEG of the quadrant picture (`width` × `height` as shown) stored turned for EXIF
 * orientation `n`, with that orientation tag: a viewer that applies it shows the quadrants upright.
 */
export async function orientedJpeg(n, width = 96, height = 64) {
  const turned = n >= 5;
  const storedWidth = turned ? height : width;
  const storedHeight = turned ? width : height;
  const canvas = new OffscreenCanvas(storedWidth, storedHeight);
  const context = canvas.getContext('2d');
  const image = context.createImageData(storedWidth, storedHeight);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = storedAt(n, x, y, width, height);
      const at = (sy * storedWidth + sx) * 4;
      image.data.set([...quadrant(x, y, width, height), 255], at);
    }
  }
  context.putImageData(image, 0, 0);
  const jpeg = new Uint8Array(await (await encode(canvas, 'image/jpeg', 0.95)).arrayBuffer());
  // The EXIF segment right after SOI (FFD8), where cameras put it.
  return new File([jpeg.subarray(0, 2), exifOrientation(n), jpeg.subarray(2)], `orientation-${n}.jpg`, { type: 'image/jpeg' });
}

/** A deterministic pseudo-random source (xorshift32). */
function random(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * A camera-like JPEG of `width` × `height`: soft gradients and shapes under per-pixel
 * sensor noise, at a phone camera's quality (0.92), so its size is a real photo's
 * (about 3–5 MB at 12 megapixels), not a flat test card's.
 */
export async function cameraJpeg(width, height, seed = 1, name = `photo-${width}x${height}.jpg`) {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  const next = random(seed);
  const sky = context.createLinearGradient(0, 0, width * next(), height);
  sky.addColorStop(0, `hsl(${360 * next()}, 60%, 70%)`);
  sky.addColorStop(1, `hsl(${360 * next()}, 50%, 30%)`);
  context.fillStyle = sky;
  context.fillRect(0, 0, width, height);
  for (let i = 0; i < 60; i++) {
    context.fillStyle = `hsla(${360 * next()}, 70%, ${20 + 60 * next()}%, 0.6)`;
    context.beginPath();
    context.ellipse(width * next(), height * next(), width * next() / 5, height * next() / 5, next() * 3, 0, 2 * Math.PI);
    context.fill();
  }
  const image = context.getImageData(0, 0, width, height);
  const data = image.data;
  for (let i = 0; i < data.length; i += 4) {
    const grain = (next() - 0.5) * 24;
    data[i] += grain;
    data[i + 1] += grain;
    data[i + 2] += grain;
  }
  context.putImageData(image, 0, 0);
  return new File([await encode(canvas, 'image/jpeg', 0.92)], name, { type: 'image/jpeg' });
}

/** A PNG with transparency: an opaque red square in the middle of a clear `size` × `size` field. */
export async function clearPng(size = 64) {
  const canvas = new OffscreenCanvas(size, size);
  const context = canvas.getContext('2d');
  context.fillStyle = 'rgb(255, 0, 0)';
  context.fillRect(size / 4, size / 4, size / 2, size / 2);
  return new File([await encode(canvas, 'image/png')], 'clear.png', { type: 'image/png' });
}

/** A small JPEG already compressed hard (quality 0.3): a re-encode at 0.8 would be larger. */
export async function tinyJpeg() {
  const canvas = new OffscreenCanvas(24, 16);
  const context = canvas.getContext('2d');
  context.fillStyle = '#3a7';
  context.fillRect(0, 0, 24, 16);
  context.fillStyle = '#a37';
  context.fillRect(4, 4, 10, 6);
  return new File([await encode(canvas, 'image/jpeg', 0.3)], 'tiny.jpg', { type: 'image/jpeg' });
}

/** Whether a JPEG's bytes carry EXIF (an APP1 "Exif" segment before the image data), where an orientation tag would live. */
export function hasExif(bytes) {
  for (let at = 2; at + 4 <= bytes.length && bytes[at] === 0xff;) {
    const marker = bytes[at + 1];
    if (marker === 0xda) break; // start of scan: no more metadata
    if (marker === 0xe1 && String.fromCharCode(...bytes.subarray(at + 4, at + 8)) === 'Exif') return true;
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
  }
  return false;
}

/** RGBA of pixels of an image file, decoded as a browser shows it: `{ width, height, at(x, y) }`. */
export async function pixels(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  context.drawImage(bitmap, 0, 0);
  const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  const { width, height } = bitmap;
  return { width, height, at: (x, y) => Array.from(data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)) };
}

/** Whether `rgb` is within `tolerance` of `expected` in every channel (JPEG is lossy). */
export const near = (rgb, expected, tolerance = 48) => expected.every((value, i) => Math.abs(rgb[i] - value) <= tolerance);

/**
 * `work()`'s result, its milliseconds, and the longest main-thread task while it ran
 * (PerformanceObserver `longtask`: what a page's user feels as a freeze; 0 when none).
 */
export async function withLongestTask(work) {
  const tasks = [];
  const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
  observer.observe({ type: 'longtask' });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const start = performance.now();
  const result = await work();
  const ms = performance.now() - start;
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return { result, ms, longest: Math.max(0, ...tasks) };
}
