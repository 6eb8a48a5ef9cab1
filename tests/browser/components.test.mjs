// wx-cloud-storage/element-plus and wx-cloud-storage/antd in headless Chromium, as shipped
// (pkg/), against the real `wxcs dev` stack: each handler called exactly as its component
// calls it (Element Plus's upload-content.vue, Ant Design's rc-upload), so what the
// component would show (percent, response, error, cancel) is checked here without its UI.
// The components' own UIs are driven in pages.test.mjs (the two admin consoles).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, DEMO_FILES, libraryPageForTests, statuses } from './support.mjs';

const opened = libraryPageForTests();
const inPage = (fn, arg) => opened.page.evaluate(fn, arg);

// In the page: `name`'s handler over `storage`, called the way its component calls it, for
// each of `files`; resolves to what the component was told about each file.
const RUN = `(${(async function run(name, handler, files) {
  return Promise.all(files.map((file) => new Promise((resolve) => {
    const seen = { name: file.name, percents: [] };
    const done = (outcome) => resolve({ ...seen, ...outcome });
    seen.handle = handler({
      file,
      // Element Plus also passes these; a handler must not need them.
      action: '', method: 'post', filename: 'file', data: {}, headers: {}, withCredentials: false,
      onProgress: (event) => seen.percents.push(event.percent),
      onSuccess: (response) => done({ response }),
      onError: (error, response) => done({ error: window.t.describe(error), response }),
    });
    seen.isXhr = seen.handle instanceof XMLHttpRequest;
    seen.hasAbort = typeof seen.handle?.abort === 'function';
    delete seen.handle;
  })));
}).toString()})`;

for (const name of ['elementPlusUpload', 'antdUpload']) {
  test(`${name}: percent to 100, the result as the response, a bad key as its error, each file on its own`, async () => {
    const outcomes = await inPage(async ([name, run]) => {
      const { adapters, client, pattern } = window.t;
      const paths = [];
      const handler = adapters[name](client(), { path: async (file) => { paths.push(file.name); return `adapters/${name}/${file.name}`; } });
      const files = [
        new File([pattern(300 * 1024)], 'big.bin'),
        new File([pattern(10)], 'bad$name.txt'),
        new File([], 'empty.txt', { type: 'text/plain' }),
      ];
      const out = await eval(run)(name, handler, files);
      return { out, paths: paths.sort() };
    }, [name, RUN]);
    assert.deepEqual(outcomes.paths, ['bad$name.txt', 'big.bin', 'empty.txt'], 'path() got each file');
    const [big, bad, empty] = outcomes.out;
    for (const ok of [big, empty]) {
      assert.equal(ok.error, undefined, `${ok.name}: ${JSON.stringify(ok.error)}`);
      assert.match(ok.response.fileId, new RegExp(`^cloud://.+/users/demo/adapters/${name}/${ok.name.replace('.', '\\.')}$`));
      assert.equal(ok.response.key, `users/demo/adapters/${name}/${ok.name}`);
      assert.equal(ok.percents[0], 0, 'shown as uploading from the start');
      assert.equal(ok.percents.at(-1), 100);
      assert.ok(ok.percents.every((p, i) => i === 0 || p >= ok.percents[i - 1]), `never backwards: ${ok.percents}`);
    }
    assert.equal(big.response.size, 300 * 1024);
    assert.ok(big.percents.length >= 2);
    assert.deepEqual(await statuses([big.response.fileId, empty.response.fileId]), [0, 0], 'both stored');
    assert.equal(bad.response?.fileId, undefined);
    assert.equal(bad.error.code, 'INVALID_KEY');
    assert.ok(bad.error.isStorageError);
    if (name === 'antdUpload') {
      assert.equal(bad.response, `INVALID_KEY: ${bad.error.message}`, 'the text the list item\'s tooltip shows');
      assert.equal(big.isXhr, false);
    } else {
      // Element Plus aborts (on remove, or abort()) only what is an XMLHttpRequest.
      assert.equal(big.isXhr, true);
    }
    assert.ok(big.hasAbort);
  });

  test(`${name}: the returned abort cancels an upload while it waits for its link and while it sends; nothing is stored`, async () => {
    // Requests the browser gave up on (the page's cancels show here as net::ERR_ABORTED).
    const aborted = [];
    const noteFailure = (request) => aborted.push(`${request.failure()?.errorText} ${request.method()} ${request.url()}`);
    opened.page.on('requestfailed', noteFailure);
    const { waiting, sending } = await inPage(async (name) => {
      const { adapters, client, pattern, faults, stats, sleep, describe } = window.t;
      const handler = adapters[name](client(), { path: (file) => `adapters/${name}/cancel-${file.name}` });
      const start = (file) => {
        let settle;
        const outcome = new Promise((resolve) => { settle = resolve; });
        const percents = [];
        const handle = handler({
          file,
          onProgress: (e) => percents.push(e.percent),
          onSuccess: (response) => settle({ response }),
          onError: (error) => settle({ error: describe(error) }),
        });
        return { handle, outcome, percents };
      };
      // 1. The credential call hangs: cancelled before a byte is sent.
      await faults({ latency_ms: 1500 });
      const first = start(new File([pattern(1000)], 'waiting.bin'));
      await sleep(200);
      first.handle.abort();
      const waiting = await first.outcome;
      await faults({});
      // 2. A slow uplink (COS reads 256 KiB/s, so 1 MiB takes 4 s): cancelled once COS is
      // receiving it (the emulator holds a partial file for it).
      await faults({ cos_bytes_per_second: 256 * 1024 });
      const before = await stats();
      const second = start(new File([pattern(1024 * 1024)], 'sending.bin'));
      const until = Date.now() + 10000;
      while ((await stats()).partial_files === before.partial_files && Date.now() < until) await sleep(20);
      const receiving = (await stats()).partial_files - before.partial_files;
      second.handle.abort();
      const sending = { ...(await second.outcome), receiving };
      // COS reads what had already arrived, then finds the body cut short: it drops the
      // partial file and stores nothing (a upload that went on would be stored by then).
      while ((await stats()).partial_files !== before.partial_files && Date.now() < until) await sleep(50);
      const after = await stats();
      Object.assign(sending, { partialLeft: after.partial_files - before.partial_files, stored: after.uploads - before.uploads });
      await faults({});
      // Had the first gone on, it would be stored by now.
      await sleep(1000);
      return { waiting, sending };
    }, name);
    opened.page.off('requestfailed', noteFailure);
    for (const outcome of [waiting, sending]) {
      assert.equal(outcome.response, undefined);
      assert.equal(outcome.error.name, 'AbortError');
      assert.equal(outcome.error.code, 'ABORTED');
    }
    assert.equal(sending.receiving, 1, 'COS was receiving it when it was cancelled');
    assert.deepEqual([sending.partialLeft, sending.stored], [0, 0], 'COS got a cut-short body and stored nothing');
    assert.ok(aborted.some((line) => line.startsWith('net::ERR_ABORTED POST') && !line.includes(BASE)), `the browser aborted the POST to COS: ${aborted}`);
    const root = `${DEMO_FILES}/adapters/${name}`;
    assert.deepEqual(await statuses([`${root}/cancel-waiting.bin`, `${root}/cancel-sending.bin`]), [-503003, -503003], 'nothing stored');
  });
}

test('however many files a component hands over at once, `concurrency` upload at a time, in order; a cancel in the queue never starts', async () => {
  const r = await inPage(async () => {
    const { adapters, client, pattern, describe } = window.t;
    const storage = client();
    let running = 0;
    let most = 0;
    const started = [];
    // A StorageClient that notes when each upload starts and ends.
    const counting = {
      upload: (file, path, options) => {
        started.push(file.name);
        running++;
        most = Math.max(most, running);
        return storage.upload(file, path, options).finally(() => running--);
      },
    };
    const handler = adapters.antdUpload(counting, { path: (file) => `adapters/queue/${file.name}`, concurrency: 2 });
    const outcomes = [];
    const handles = [];
    const all = Array.from({ length: 6 }, (_, i) => new Promise((resolve) => {
      handles[i] = handler({
        file: new File([pattern(64 * 1024)], `q${i}.bin`),
        onSuccess: (response) => resolve((outcomes[i] = { ok: response.key })),
        onError: (error) => resolve((outcomes[i] = { error: describe(error).name })),
      });
    }));
    handles[4].abort(); // still queued: two run, three wait before it
    await Promise.all(all);
    return { most, started, outcomes };
  });
  assert.equal(r.most, 2, 'never more than 2 at once');
  assert.deepEqual(r.started, ['q0.bin', 'q1.bin', 'q2.bin', 'q3.bin', 'q5.bin'], 'in order; the cancelled one never started');
  assert.deepEqual(r.outcomes[4], { error: 'AbortError' });
  for (const i of [0, 1, 2, 3, 5]) assert.equal(r.outcomes[i].ok, `users/demo/adapters/queue/q${i}.bin`);
});

test('bad adapter options are INVALID_ARGUMENT errors that say what to pass', async () => {
  const errors = await inPage(() => {
    const { adapters, client, thrown } = window.t;
    const storage = client();
    const path = (file) => file.name;
    return {
      noClient: thrown(() => adapters.elementPlusUpload({}, { path })),
      noPath: thrown(() => adapters.antdUpload(storage)),
      pathNotFunction: thrown(() => adapters.elementPlusUpload(storage, { path: 'users/a.png' })),
      unknown: thrown(() => adapters.antdUpload(storage, { path, onProgress: () => {} })),
      concurrency: thrown(() => adapters.elementPlusUpload(storage, { path, concurrency: 0 })),
    };
  });
  for (const [what, e] of Object.entries(errors)) {
    assert.ok(e.isStorageError, what);
    assert.equal(e.code, 'INVALID_ARGUMENT', what);
  }
  assert.match(errors.noClient.message, /^elementPlusUpload\(storage, options\): storage must be a StorageClient/);
  assert.match(errors.noPath.message, /^antdUpload\(storage, options\): options\.path must be a function .*file\.name/);
  assert.match(errors.pathNotFunction.message, /options\.path must be a function/);
  assert.match(errors.unknown.message, /unknown option "onProgress"; the options are path, image, concurrency \(progress and cancel come from the component\)/);
  assert.match(errors.concurrency.message, /concurrency must be a whole number from 1 to 16/);
});

test('the image option goes through: a big photo is resized before it leaves', async () => {
  const r = await inPage(async () => {
    const { adapters, client, image, photos } = window.t;
    const handler = adapters.elementPlusUpload(client({ images: image.images() }), { path: () => 'adapters/photo.jpg', image: { maxWidth: 200, maxHeight: 200 } });
    const photo = await photos.cameraJpeg(800, 600);
    return new Promise((resolve, reject) => handler({
      file: photo,
      onProgress: () => {},
      onSuccess: (response) => resolve({ image: response.image, size: response.size, original: photo.size }),
      onError: reject,
    }));
  });
  assert.equal(r.image.changed, true);
  assert.deepEqual([r.image.width, r.image.height], [200, 150]);
  assert.ok(r.size < r.original);
});
