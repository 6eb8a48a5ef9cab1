// wx-cloud-storage/image in headless Chromium, as shipped (pkg/), against the real `wxcs dev`
// stack: photos made in the page by the browser's own encoders (page/photos.js), uploaded
// through the image step, then downloaded from the emulator and checked by their pixels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { libraryPageForTests } from './support.mjs';

const opened = libraryPageForTests();
const inPage = (fn, arg) => opened.page.evaluate(fn, arg);

test('every EXIF orientation (1–8) comes out upright: pixels, no tag left to apply twice', async () => {
  const results = await inPage(async () => {
    const { photos, image, client } = window.t;
    const storage = client({ images: image.images() });
    const out = [];
    for (let n = 1; n <= 8; n++) {
      const file = await photos.orientedJpeg(n);
      const shown = await photos.pixels(file); // the fixture, as a browser shows it
      const result = await storage.upload(file, `image/orientation-${n}.jpg`, { image: { maxWidth: 48 } });
      const stored = await storage.download(result.fileId);
      const bytes = new Uint8Array(await stored.arrayBuffer());
      const got = await photos.pixels(stored);
      const q = photos.QUADRANTS;
      out.push({
        n, fixtureExif: photos.hasExif(new Uint8Array(await file.arrayBuffer())),
        fixtureUpright: photos.near(shown.at(10, 10), q.topLeft) && photos.near(shown.at(85, 53), q.bottomRight),
        report: result.image, size: result.size, storedSize: stored.size, storedType: stored.type,
        storedExif: photos.hasExif(bytes), storedSides: [got.width, got.height],
        corners: [
          photos.near(got.at(8, 6), q.topLeft), photos.near(got.at(40, 6), q.topRight),
          photos.near(got.at(8, 26), q.bottomLeft), photos.near(got.at(40, 26), q.bottomRight),
        ],
      });
    }
    return out;
  });
  for (const r of results) {
    assert.ok(r.fixtureExif && r.fixtureUpright, `fixture ${r.n} carries its tag and shows upright`);
    assert.deepEqual(r.corners, [true, true, true, true], `orientation ${r.n}: each quadrant where it belongs`);
    assert.deepEqual(r.storedSides, [48, 32], `orientation ${r.n}: upright and resized`);
    assert.equal(r.storedExif, false, `orientation ${r.n}: no EXIF left to rotate it again`);
    assert.deepEqual({ ...r.report, size: 0 }, {
      width: 48, height: 32, size: 0, type: 'image/jpeg', changed: true,
      original: { width: 96, height: 64, size: r.report.original.size, type: 'image/jpeg' },
    });
    assert.deepEqual([r.size, r.storedSize, r.storedType], [r.report.size, r.report.size, 'image/jpeg'], 'stored what the result reported');
  }
});

test('a 12-megapixel photo is resized within bounds in a worker: the main thread is never blocked for long', async () => {
  const r = await inPage(async () => {
    const { photos, image, client } = window.t;
    const photo = await photos.cameraJpeg(4000, 3000);
    const longest = photos.withLongestTask;
    const options = { image: { maxWidth: 1920, maxHeight: 1920, quality: 0.8 } };
    const inWorker = await longest(() => client({ images: image.images() }).upload(photo, 'image/12mp.jpg', options));
    const onMain = await longest(() => client({ images: image.images({ worker: false }) }).upload(photo, 'image/12mp-main.jpg', options));
    const stored = await client().download(inWorker.result.fileId);
    const got = await photos.pixels(stored);
    const thumb = await longest(() => image.thumbnail(photo));
    const shown = await new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
      img.onerror = () => resolve(null);
      img.src = thumb.result.url;
    });
    URL.revokeObjectURL(thumb.result.url);
    return {
      size: photo.size, worker: { ...inWorker, result: inWorker.result.image }, main: { longest: onMain.longest, ms: onMain.ms, report: onMain.result.image },
      storedSides: [got.width, got.height], storedSize: stored.size, thumb: { ...thumb.result, longest: thumb.longest }, shown,
    };
  });
  console.log(`12 MP photo ${r.size} B → ${r.worker.result.size} B; longest main-thread task: worker ${r.worker.longest.toFixed(0)} ms ` +
    `(${r.worker.ms.toFixed(0)} ms in all), main thread ${r.main.longest.toFixed(0)} ms (${r.main.ms.toFixed(0)} ms); thumbnail ${r.thumb.longest.toFixed(0)} ms`);
  assert.ok(r.size > 2e6, `a camera-sized file (${r.size} B)`);
  assert.deepEqual([r.worker.result.width, r.worker.result.height, r.worker.result.changed], [1920, 1440, true]);
  assert.deepEqual([r.worker.result.original.width, r.worker.result.original.height], [4000, 3000]);
  assert.ok(r.worker.result.size < r.size / 3, `smaller: ${r.worker.result.size} of ${r.size}`);
  assert.deepEqual([...r.storedSides, r.storedSize], [1920, 1440, r.worker.result.size]);
  assert.ok(r.worker.longest < 150, `no long main-thread task while the worker works (longest ${r.worker.longest} ms)`);
  assert.deepEqual([r.main.report.width, r.main.report.height], [1920, 1440], 'the main-thread fallback makes the same photo');
  assert.deepEqual([r.thumb.width, r.thumb.height], [256, 192]);
  assert.deepEqual(r.shown, [256, 192], 'the thumbnail URL shows in an <img>');
  assert.ok(r.thumb.longest < 150, `thumbnail off the main thread (longest ${r.thumb.longest} ms)`);
});

test('a small, already-compressed photo goes up unchanged, byte for byte', async () => {
  const r = await inPage(async () => {
    const { photos, image, client, bytesOf, same } = window.t;
    const storage = client({ images: image.images() });
    const tiny = await photos.tinyJpeg();
    const result = await storage.upload(tiny, 'image/tiny.jpg', { image: true });
    const stored = await storage.download(result.fileId);
    return { report: result.image, same: same(await bytesOf(stored), await bytesOf(tiny)), size: tiny.size };
  });
  assert.equal(r.same, true, 'the stored bytes are the picked file\'s');
  assert.deepEqual(r.report, {
    width: 24, height: 16, size: r.size, type: 'image/jpeg', changed: false, reason: 'not-smaller',
    original: { width: 24, height: 16, size: r.size, type: 'image/jpeg' },
  });
});

test('a PNG with transparency stays PNG, clear where it was clear; JPEG only when asked, on white', async () => {
  const r = await inPage(async () => {
    const { photos, image, client } = window.t;
    const storage = client({ images: image.images() });
    const png = await photos.clearPng(64);
    const kept = await storage.upload(png, 'image/clear.png', { image: { maxWidth: 32 } });
    const asJpeg = await storage.upload(png, 'image/clear.jpg', { image: { maxWidth: 32, type: 'image/jpeg' } });
    const keptPixels = await photos.pixels(await storage.download(kept.fileId));
    const jpegStored = await storage.download(asJpeg.fileId);
    const jpegPixels = await photos.pixels(jpegStored);
    return {
      kept: kept.image, asJpeg: asJpeg.image, jpegType: jpegStored.type,
      keptCorner: keptPixels.at(1, 1), keptMiddle: keptPixels.at(16, 16), jpegCorner: jpegPixels.at(1, 1), sides: [keptPixels.width, keptPixels.height],
    };
  });
  assert.deepEqual([r.kept.type, r.kept.width, r.kept.height, r.kept.changed], ['image/png', 32, 32, true]);
  assert.deepEqual(r.sides, [32, 32]);
  assert.equal(r.keptCorner[3], 0, 'the clear corner is still clear');
  assert.deepEqual(r.keptMiddle, [255, 0, 0, 255]);
  assert.deepEqual([r.asJpeg.type, r.asJpeg.changed, r.jpegType], ['image/jpeg', true, 'image/jpeg']);
  assert.ok(r.jpegCorner.slice(0, 3).every((v) => v > 235), `white, not black: ${r.jpegCorner}`);
});

test('HEIC is known by its bytes and stored as image/heic; a browser that cannot decode it sends it unmodified', async () => {
  const r = await inPage(async () => {
    const { image, client, bytesOf, same } = window.t;
    // An ISO BMFF ftyp box with the brands an iPhone writes, then bytes no browser here decodes.
    const ftyp = new Uint8Array([0, 0, 0, 24, ...new TextEncoder().encode('ftypheic'), 0, 0, 0, 0, ...new TextEncoder().encode('mif1heic')]);
    const heic = new File([ftyp, new Uint8Array(4000).fill(7)], 'IMG_0001.HEIC', { type: '' });
    const storage = client({ images: image.images() });
    const asked = await storage.upload(heic, 'image/a.heic', { image: { maxWidth: 100 } });
    const plain = await storage.upload(heic, 'image/b.heic');
    const type = async (fileId) => {
      const [link] = await storage.getTempFileUrls([fileId]);
      const response = await fetch(link.url);
      return { type: response.headers.get('content-type'), same: same(new Uint8Array(await response.arrayBuffer()), await bytesOf(heic)) };
    };
    return {
      report: asked.image, asked: await type(asked.fileId), plain: await type(plain.fileId), plainImage: plain.image,
      sniffed: await image.imageType(heic), avif: await image.imageType(new Blob([new Uint8Array([0, 0, 0, 16, ...new TextEncoder().encode('ftypavif'), 0, 0, 0, 0])])),
      notImage: await image.imageType(new Blob(['%PDF-1.7'])),
    };
  });
  assert.deepEqual([r.report.changed, r.report.reason, r.report.type], [false, 'cannot-decode', 'image/heic']);
  assert.deepEqual(r.asked, { type: 'image/heic', same: true });
  assert.deepEqual(r.plain, { type: 'image/heic', same: true }, 'typed right even without an image step asked');
  assert.equal(r.plainImage, undefined, 'no report when no step was asked');
  assert.deepEqual([r.sniffed, r.avif, r.notImage], ['image/heic', 'image/avif', '']);
});

test('uploadMany: the image step per item, each outcome reported; bad options are clear errors', async () => {
  const r = await inPage(async () => {
    const { photos, image, client, rejection, thrown } = window.t;
    const storage = client({ images: image.images({ maxWidth: 40, quality: 0.7 }) });
    const photo = await photos.cameraJpeg(400, 300);
    const results = await storage.uploadMany([
      { file: photo, path: 'image/many/a.jpg', image: true },
      { file: photo, path: 'image/many/b.jpg' },
      { file: new Blob(['hello'], { type: 'text/plain' }), path: 'image/many/c.txt', image: true },
      { file: photo, path: 'image/many/$bad.jpg', image: true },
      { file: photo, path: 'image/many/d.jpg', image: { quality: 2 } },
    ]);
    return {
      results: results.map((x) => ({ ok: x.ok, image: x.image && { width: x.image.width, changed: x.image.changed, reason: x.image.reason }, code: x.error && x.error.code, size: x.size })),
      photoSize: photo.size,
      noModule: await rejection(client().upload(photo, 'image/x.jpg', { image: true })),
      badType: await rejection(storage.upload(photo, 'image/x.jpg', { image: { type: 'image/gif' } })),
      unknown: thrown(() => image.images({ width: 3 })),
      badWorker: thrown(() => image.images({ worker: 'yes' })),
      badValue: await rejection(storage.upload(photo, 'image/x.jpg', { image: 'small' })),
    };
  });
  const [a, b, c, bad, d] = r.results;
  assert.deepEqual(a.image, { width: 40, changed: true, reason: undefined }, 'the module\'s defaults');
  assert.deepEqual([b.ok, b.image, b.size], [true, undefined, r.photoSize], 'no step asked: the photo itself');
  assert.deepEqual([c.ok, c.image], [true, { width: undefined, changed: false, reason: 'not-an-image' }]);
  assert.deepEqual([bad.ok, bad.code], [false, 'INVALID_KEY']);
  assert.deepEqual([d.ok, d.code], [false, 'INVALID_ARGUMENT']);
  assert.equal(r.noModule.code, 'INVALID_ARGUMENT');
  assert.match(r.noModule.message, /wx-cloud-storage\/image/);
  assert.match(r.badType.message, /type must be image\/jpeg, image\/png, image\/webp/);
  assert.match(r.unknown.message, /unknown option width/);
  assert.match(r.badWorker.message, /worker must be true or false/);
  assert.match(r.badValue.message, /image must be true or an object/);
});
