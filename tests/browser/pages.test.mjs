// The example pages, driven like a user would: real files through the UI, against
// `wxcs dev` (emulator + backend) over HTTP, in headless Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { BASE, DEMO_FILES, SHOTS, colourPng, downloaded, faults, launch, patternBytes, stats, statuses, until } from './support.mjs';

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

// Each console's upload component, as a user meets it: its own file list, each item (done
// or not), the item's progress bar, thumbnail and remove button.
const PRODUCTS = 'cloud://dev-emulator.6465-dev-emulator-1300000000/products';

// Where each console keeps its files: the Vue console (the demo's admin) the shop's shared
// products/, the React console (the demo user) a folder of that user's own.
const COMPONENT = {
  vue: {
    library: 'Element Plus', item: '.el-upload-list__item', doneItem: '.el-upload-list__item.is-success',
    thumbnail: 'img.el-upload-list__item-thumbnail', remove: '.el-icon--close', folder: PRODUCTS, user: /admin \(admin, editor\)/,
  },
  react: {
    library: 'Ant Design', item: '.ant-upload-list-item-container', doneItem: '.ant-upload-list-item-done',
    thumbnail: '.ant-upload-list-item-thumbnail img', remove: 'button[title="Remove file"]', folder: `${DEMO_FILES}/react-console`, user: /demo \(/,
  },
};

/** The console's stored-files table rows (each has a File ID cell). */
const storedRows = (page) => page.locator('tr').filter({ has: page.getByTestId('file-id') });

for (const name of ['vue', 'react']) {
  const ui = COMPONENT[name];
  describe(`the ${name} console (${ui.library})`, () => {
    test('uploads several files through the component: progress to 100, success, the bad name\'s error; remove one; download the same bytes; delete', async () => {
      const page = await newPage();
      await page.goto(`${BASE}/${name}/`);
      assert.match(await page.getByTestId('signed-in').textContent(), ui.user, 'signed in by the demo login (a JWT)');
      const data = patternBytes(1024 * 1024 + 3);
      // COS reads 1 MiB/s: the bytes are sent (100%) a while before COS answers.
      await faults({ cos_bytes_per_second: 1024 * 1024 });
      await page.locator('input[type=file]').setInputFiles([
        { name: 'photo.png', mimeType: 'image/png', buffer: colourPng(64, 48) },
        { name: 'data.bin', mimeType: 'application/octet-stream', buffer: data },
        { name: 'bad$name.txt', mimeType: 'text/plain', buffer: Buffer.from('x') },
      ]);
      const items = page.locator(ui.item);
      // The item's own progress bar reaches 100, then the item shows success.
      await items.filter({ hasText: 'data.bin' }).locator('[role=progressbar][aria-valuenow="100"]').waitFor();
      await page.locator(ui.doneItem, { hasText: 'data.bin' }).waitFor();
      await page.locator(ui.doneItem, { hasText: 'photo.png' }).waitFor();
      await faults({});
      assert.equal(await page.getByTestId('progress').getAttribute('aria-valuenow'), '100', 'and the total');

      // The bad name: its StorageError, code first, where the console shows errors...
      const error = page.getByTestId('error');
      assert.match(await error.textContent(), /bad\$name\.txt: INVALID_KEY: .*\$/);
      assert.equal(await page.getByTestId('retry').textContent(), '重试失败 (1)');
      if (name === 'react') {
        // ...and Ant Design's own: the item turns red, its tooltip says what went wrong.
        const bad = page.locator('.ant-upload-list-item-error', { hasText: 'bad$name.txt' });
        await bad.hover();
        await page.locator('.ant-tooltip').filter({ hasText: 'INVALID_KEY: ' }).waitFor();
      } else {
        // ...Element Plus drops a failed file from its list: the console keeps it for retry.
        assert.equal(await items.filter({ hasText: 'bad$name.txt' }).count(), 0);
        assert.match(await page.getByTestId('failed-row').textContent(), /bad\$name\.txt · INVALID_KEY/);
      }

      // The photo's list thumbnail is a preview made by thumbnail(), not the photo itself.
      const thumb = items.filter({ hasText: 'photo.png' }).locator(ui.thumbnail);
      await page.waitForFunction((el) => el.naturalWidth > 0 && el.src.startsWith('blob:'), await thumb.elementHandle());
      assert.deepEqual(await thumb.evaluate((img) => [img.naturalWidth, img.naturalHeight]), [64, 48]);

      const rows = storedRows(page);
      await rows.nth(1).waitFor();
      assert.equal(await rows.count(), 2, 'the two good files are stored');
      await page.locator('.thumb img, img.thumb').first().waitFor();
      await page.screenshot({ path: join(SHOTS, `${name}-console.png`), fullPage: true });

      // Removing an uploaded file from the component's list leaves it stored.
      const photoItem = items.filter({ hasText: 'photo.png' });
      await photoItem.hover();
      await photoItem.locator(ui.remove).click();
      await photoItem.waitFor({ state: 'detached' });
      assert.equal(await rows.count(), 2);

      const row = rows.filter({ hasText: 'data.bin' });
      const fileId = await row.getByTestId('file-id').textContent();
      assert.equal(fileId, `${ui.folder}/data.bin`);
      const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('download').click()]);
      assert.equal(download.suggestedFilename(), 'data.bin');
      assert.ok((await downloaded(download)).equals(data), 'downloaded bytes equal the uploaded ones');

      await row.getByTestId('delete').click();
      await rows.filter({ hasText: 'data.bin' }).waitFor({ state: 'detached' });
      assert.deepEqual(await statuses([fileId]), [-503003], 'gone from storage, not only from the list');
      await page.context().close();
    });

    test('the component\'s remove cancels an upload mid-way (nothing stored); cancel all, then retry finishes them', async () => {
      const page = await newPage();
      await page.goto(`${BASE}/${name}/`);
      const items = page.locator(ui.item);
      // COS reads 256 KiB/s: 1 MiB is still going up when the user removes it.
      await faults({ cos_bytes_per_second: 256 * 1024 });
      await page.locator('input[type=file]').setInputFiles([{ name: 'cancel-me.bin', mimeType: 'application/octet-stream', buffer: patternBytes(1024 * 1024) }]);
      const sending = items.filter({ hasText: 'cancel-me.bin' });
      await sending.waitFor();
      await until(async () => (await stats()).partial_files !== 0);
      assert.equal((await stats()).partial_files, 1, 'COS is receiving it');
      await sending.hover();
      await sending.locator(ui.remove).click();
      await sending.waitFor({ state: 'detached' });
      await until(async () => (await stats()).partial_files === 0);
      await faults({});
      assert.deepEqual(await statuses([`${ui.folder}/cancel-me.bin`]), [-503003], 'nothing stored');

      // Cancel all while the credential calls hang; retry sends them again.
      await faults({ latency_ms: 2000 });
      await page.locator('input[type=file]').setInputFiles([
        { name: 'slow-1.bin', mimeType: 'text/plain', buffer: patternBytes(4096) },
        { name: 'slow-2.bin', mimeType: 'text/plain', buffer: patternBytes(100) },
      ]);
      await page.getByTestId('cancel').click();
      await page.locator('[data-testid=retry]', { hasText: '(2)' }).waitFor();
      assert.equal(await page.getByTestId('error').count(), 0, 'a cancel is not an error');
      await faults({});
      await page.getByTestId('retry').click();
      await storedRows(page).filter({ hasText: 'slow-1.bin' }).waitFor();
      await storedRows(page).filter({ hasText: 'slow-2.bin' }).waitFor();
      assert.equal(await page.getByTestId('retry').textContent(), '重试失败 (0)');
      await page.context().close();
    });
  });
}

test('the files are listed by the backend: a second browser sees them, a page at a time, filtered by name; the H5 page shows the products; the user\'s console does not', async () => {
  const admin = await newPage();
  await admin.goto(`${BASE}/vue/`);
  const names = Array.from({ length: 12 }, (_, i) => `p-${String(i).padStart(2, '0')}.png`);
  await admin.locator('input[type=file]').setInputFiles(names.map((n, i) => ({ name: n, mimeType: 'image/png', buffer: colourPng(8 + i, 8) })));
  for (const n of names) await admin.locator(COMPONENT.vue.doneItem, { hasText: n }).waitFor();
  await admin.context().close();

  // Another browser (nothing in its storage), the same admin: every file, page by page.
  const other = await newPage();
  await other.goto(`${BASE}/vue/`);
  const rows = storedRows(other);
  const seen = [];
  for (let pages = 0; ; pages++) {
    await rows.first().waitFor();
    assert.ok((await rows.count()) <= 10, 'ten to a page');
    seen.push(...await other.getByTestId('file-name').allTextContents());
    if (await other.getByTestId('next-page').isDisabled()) break;
    const before = await other.getByTestId('page').textContent();
    await other.getByTestId('next-page').click();
    await other.getByTestId('page').filter({ hasNotText: before }).waitFor();
    assert.ok(pages < 10);
  }
  assert.equal(new Set(seen).size, seen.length, `no file twice: ${seen}`);
  for (const n of names) assert.ok(seen.includes(n), `${n} listed`);
  // (Element Plus puts the test ID on the <input> itself.)
  const filter = other.locator('input[data-testid=filter], [data-testid=filter] input');
  await filter.fill('p-1');
  await filter.press('Enter');
  await other.waitForFunction(() => [...document.querySelectorAll('[data-testid=file-name]')].every((e) => e.textContent.includes('p-1')));
  assert.deepEqual((await other.getByTestId('file-name').allTextContents()).sort(), ['p-10.png', 'p-11.png']);
  await other.screenshot({ path: join(SHOTS, 'vue-console-listed.png'), fullPage: true });
  await other.context().close();

  // The H5 page reads the shared products; the demo user's console lists its own folder only.
  const h5 = await newPage();
  await h5.goto(`${BASE}/h5/`);
  await h5.getByTestId('products').locator('img').nth(11).waitFor();
  const shown = await h5.getByTestId('products').locator('li span').allTextContents();
  for (const n of names) assert.ok(shown.includes(n), `${n} on the H5 page`);
  await h5.context().close();
  const user = await newPage();
  await user.goto(`${BASE}/react/`);
  await user.getByTestId('page').waitFor();
  await user.waitForLoadState('networkidle');
  const own = await user.getByTestId('file-name').allTextContents();
  assert.ok(!own.some((n) => n.startsWith('p-')), `products listed in the user's console: ${own}`);
  await user.context().close();
});

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
