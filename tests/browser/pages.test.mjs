// The example pages, driven like a user would: real files through the UI, against
// `wxcs dev` (emulator + backend) over HTTP, in headless Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { BASE, SHOTS, colourPng, downloaded, faults, launch, patternBytes, statuses } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); await faults({}); });

async function newPage() {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (error) => { throw error; });
  return page;
}

test('the index links the three pages', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/`);
  const links = await page.locator('a.card').evaluateAll((as) => as.map((a) => new URL(a.href).pathname));
  assert.deepEqual(links, ['/h5/', '/vue/', '/react/']);
  await page.screenshot({ path: join(SHOTS, 'index.png'), fullPage: true });
  await page.context().close();
});

for (const name of ['vue', 'react']) {
  describe(`the ${name} console`, () => {
    test('uploads a batch, shows each file, downloads the same bytes, deletes, reports a bad name', async () => {
      const page = await newPage();
      await page.goto(`${BASE}/${name}/`);
      const data = patternBytes(1024 * 1024 + 3);
      await page.getByTestId('file-input').setInputFiles([
        { name: 'photo.png', mimeType: 'image/png', buffer: colourPng(64, 48) },
        { name: 'data.bin', mimeType: 'application/octet-stream', buffer: data },
        { name: 'bad$name.txt', mimeType: 'text/plain', buffer: Buffer.from('x') },
      ]);
      // The queued photo's preview, made by thumbnail(); none for the other two.
      await page.waitForFunction(() => document.querySelector('[data-testid=queue-preview]')?.naturalWidth === 64);
      assert.equal(await page.getByTestId('queue-preview').count(), 1);
      await page.getByTestId('upload').click();
      await page.locator('[data-testid=progress][aria-valuenow="100"]').waitFor();
      const rows = page.getByTestId('file-row');
      await rows.nth(1).waitFor();
      assert.equal(await rows.count(), 2, 'the two good files are stored');
      const error = page.getByTestId('error');
      assert.match(await error.textContent(), /bad\$name\.txt: INVALID_KEY: .*\$/);
      await page.locator('img.thumb').first().waitFor();
      await page.screenshot({ path: join(SHOTS, `${name}-console.png`), fullPage: true });

      const row = rows.filter({ hasText: 'data.bin' });
      const fileId = await row.getAttribute('data-file-id');
      assert.match(fileId, /^cloud:\/\/.+\/users\/demo\/.+-console\/data\.bin$/);
      assert.match(await row.textContent(), new RegExp(fileId.replace(/[.$/]/g, '\\$&')), 'the row shows the file ID');
      const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('download').click()]);
      assert.equal(download.suggestedFilename(), 'data.bin');
      assert.ok((await downloaded(download)).equals(data), 'downloaded bytes equal the uploaded ones');

      await row.getByTestId('delete').click();
      await page.getByTestId('file-row').filter({ hasText: 'data.bin' }).waitFor({ state: 'detached' });
      assert.deepEqual(await statuses([fileId]), [-503003], 'gone from storage, not only from the list');
      await page.context().close();
    });

    test('cancel stops the upload, and retry finishes it', async () => {
      const page = await newPage();
      await page.goto(`${BASE}/${name}/`);
      await page.getByTestId('file-input').setInputFiles([{ name: 'slow.bin', mimeType: 'text/plain', buffer: patternBytes(4096) }]);
      await faults({ latency_ms: 2000 }); // the credential call hangs: time to cancel
      await page.getByTestId('upload').click();
      await page.getByTestId('cancel').click();
      const queued = page.getByTestId('queue-row').filter({ hasText: 'slow.bin' });
      await queued.filter({ hasText: '已取消' }).waitFor();
      await faults({});
      await page.getByTestId('retry').click();
      await queued.filter({ hasText: '完成' }).waitFor();
      await page.getByTestId('file-row').filter({ hasText: 'slow.bin' }).waitFor();
      await page.context().close();
    });
  });
}

describe('the H5 page', () => {
  test('uploads a photo with progress, gets it back gray by temporary URL, downloads and deletes', async () => {
    const page = await newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/h5/`);
    await page.getByTestId('file-input').setInputFiles({ name: '照片.png', mimeType: 'image/png', buffer: colourPng(80, 60) });
    await page.getByTestId('upload').click();
    const image = page.getByTestId('result-image');
    await image.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=result-image]').naturalWidth > 0);
    assert.equal(await page.getByTestId('progress').getAttribute('aria-valuenow'), '100');
    const pixels = await image.evaluate((img) => {
      const canvas = Object.assign(document.createElement('canvas'), { width: img.naturalWidth, height: img.naturalHeight });
      const context = canvas.getContext('2d');
      context.drawImage(img, 0, 0);
      return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
    });
    assert.equal(pixels.length, 80 * 60 * 4, 'the result has the photo\'s size');
    for (let i = 0; i < pixels.length; i += 4) {
      assert.ok(pixels[i] === pixels[i + 1] && pixels[i + 1] === pixels[i + 2], `pixel ${i / 4} is gray`);
    }
    await page.screenshot({ path: join(SHOTS, 'h5.png'), fullPage: true });

    const ids = (await page.getByTestId('file-row').locator('code').allTextContents());
    assert.equal(ids.length, 2);
    assert.match(ids[0], /\/users\/demo\/h5\/\d+-照片\.png$/);
    assert.match(ids[1], /\/users\/demo\/gray\/\d+-照片\.png$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const png = await downloaded(download);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');

    await page.getByTestId('delete').click();
    await page.locator('#result').waitFor({ state: 'hidden' });
    assert.deepEqual(await statuses(ids), [-503003, -503003], 'both images deleted');
    await page.context().close();
  });

  test('compresses a big photo before upload and shows the sizes before and after', async () => {
    const page = await newPage();
    await page.goto(`${BASE}/h5/`);
    const photo = colourPng(2400, 1800);
    await page.getByTestId('file-input').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: photo });
    await page.waitForFunction(() => document.querySelector('[data-testid=preview]').naturalWidth > 0);
    assert.deepEqual(await page.getByTestId('preview').evaluate((img) => [img.naturalWidth, img.naturalHeight]), [640, 480], 'a thumbnail, not the photo');
    assert.equal(await page.getByTestId('compress').isChecked(), true, 'on by default');
    await page.getByTestId('upload').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=result-image]').naturalWidth > 0);
    const sizes = await page.getByTestId('sizes').textContent();
    const match = sizes.match(/^压缩：(.+) \(2400 × 1800\) → (.+) \(1600 × 1200\)$/);
    assert.ok(match, sizes);
    assert.deepEqual(await page.getByTestId('result-image').evaluate((img) => [img.naturalWidth, img.naturalHeight]), [1600, 1200], 'what went up was the resized photo');
    await page.getByTestId('delete').click();
    await page.locator('#result').waitFor({ state: 'hidden' });
    await page.context().close();
  });

  test('an invalid name shows the error; cancel stops the upload', async () => {
    const page = await newPage();
    await page.goto(`${BASE}/h5/`);
    await page.getByTestId('file-input').setInputFiles({ name: 'a#b.png', mimeType: 'image/png', buffer: colourPng(8, 8) });
    await page.getByTestId('upload').click();
    const error = page.getByTestId('error');
    await error.waitFor();
    assert.match(await error.textContent(), /^INVALID_KEY: .*#/);

    await page.getByTestId('file-input').setInputFiles({ name: 'slow.png', mimeType: 'image/png', buffer: colourPng(8, 8) });
    await faults({ latency_ms: 2000 });
    await page.getByTestId('upload').click();
    await page.getByTestId('cancel').click();
    await page.locator('#status', { hasText: '已取消' }).waitFor();
    await faults({});
    assert.equal(await page.getByTestId('error').isHidden(), true, 'a cancel is not an error');
    assert.equal(await page.getByTestId('progress').getAttribute('aria-valuenow'), '0');
    await page.context().close();
  });
});
