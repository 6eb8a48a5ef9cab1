// The StorageClient: what the library does, step by step, on every platform. Every rule it
// applies (option checks, key rules, the upload form, what each answer means, when to
// retry and how long to wait) is a call into the wasm (`rules`); this file only sequences
// those calls, awaits the platform's transport (../browser/transport.js or
// ../miniprogram/transport.js, handed over by the platform entry: see ./transport.d.ts)
// and reports progress.
//
// One upload is a pipeline of declared steps. The optional modules (`images`, then
// `integrity`, then `resumable`) plug into it; each implements any of these hooks, which all take
// (job, sent) and write into them:
//   prepareFile  before anything else: may replace job.file and job.contentType, and add
//                to job.result (the image step)
//   beforeSend   may set job.path (a key template's expansion, checked by job.check()), add
//                job.fields to the form, ask for COS's CRC-64 (job.wantCrc), or end the
//                upload with job.done (a result: the file is already stored)
//   send         may send the file itself (the resumable module, by parts) and return
//                what was sent; undefined leaves it to the one POST
//   report       may add to job.report, the upload's one report to the backend
//                (`POST {endpoint}/verify`); one is made when a step adds to it or the
//                backend asked for it
//   afterSend    may add to job.result; may throw (INTEGRITY_MISMATCH)
// `job` is `{ file, path, contentType, signal, fields, result, info, check(path),
// call(name, body) }`; `sent`, from afterSend on, is `{ fileId, key, size, answer,
// verified }` (COS's accepting answer, and the backend's answer to the report).
import * as rules from './wx_cloud_storage.js';
import { StorageError } from './storage-error.js';
import { checkHeaders, readOptions } from './options.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Whether the platform entry (browser or mini program) has loaded the wasm.
let loaded = false;

/** Called by the platform entry once the wasm is loaded. */
export function markLoaded() {
  loaded = true;
}

/**
 * A clear StorageError (instead of a TypeError deep in the glue) when the library is used
 * before the wasm is loaded.
 */
export function assertLoaded(what) {
  if (!loaded) {
    throw new StorageError('INVALID_ARGUMENT', `${what} was used before the wasm was loaded: call \`await init()\` (the default export of 'wx-cloud-storage') once at start-up`);
  }
}

// A caller's progress callback: one that throws never breaks the operation.
function notify(callback, event) {
  try {
    callback(event);
  } catch (_) { /* ignored on purpose */ }
}

// The StorageError for a caller's callback that threw `thrown`.
const callbackFailure = (thrown, credentials) =>
  rules.callbackFailure(thrown instanceof Error ? thrown.message : typeof thrown === 'string' ? thrown : undefined, credentials);

function checkAbort(signal) {
  if (signal && signal.aborted) throw rules.abortError();
}

// File IDs checked, in the chunks one backend call may carry, in order.
function batches(fileIds, method) {
  const size = rules.checkFileIds(fileIds, method);
  const chunks = [];
  for (let i = 0; i < fileIds.length; i += size) chunks.push(fileIds.slice(i, i + size));
  return chunks;
}

/** Uploads files straight to WeChat Cloud Run storage with links from the app's backend. */
export class StorageClient {
  /** `transport`: the platform's (the platform entry's subclass passes it). */
  constructor(options, transport) {
    assertLoaded('new StorageClient');
    const read = readOptions(options, 'new StorageClient(options): options',
      ['endpoint', 'headers', 'credentials', 'container', 'retries', 'concurrency', 'timeoutMs', 'getUploadCredentials', 'integrity', 'images', 'resumable'],
      { endpoint: '/api/storage', concurrency: 3, timeoutMs: 60000 });
    read.endpoint = read.endpoint.replace(/\/+$/, '');
    if (typeof read.headers !== 'function') read.headers = checkHeaders(read.headers);
    this._options = read;
    this._transport = transport;
    // The optional modules, in the order an upload meets them.
    this._steps = [read.images, read.integrity, read.resumable].filter(Boolean);
    // What a module that sends by itself (resumable) needs of the client.
    const own = {
      endpoint: read.endpoint, timeoutMs: read.timeoutMs, transport,
      call: (name, body, signal) => this._backend(name, body, signal),
      answered: (url, outcome) => this._answered(url, outcome),
      backoff: (error, retry, signal) => this._backoff(error, retry, signal),
    };
    for (const step of this._steps) if (step.attach) step.attach(own);
  }

  /** Uploads `file` to `path`: `{ fileId, key, size }`. */
  async upload(file, path, options) {
    const { onProgress, signal, contentType, image } = readOptions(options, 'upload options', ['onProgress', 'signal', 'contentType', 'image']);
    const progress = onProgress && ((event) => notify(onProgress, event));
    return this._one(file, path, contentType, signal, progress, image);
  }

  /** Uploads many files, `concurrency` at a time; one result per item, in input order. */
  async uploadMany(items, options) {
    if (!Array.isArray(items) || !items.length) {
      throw new StorageError('INVALID_ARGUMENT', 'uploadMany(items): items must be a non-empty array of { file, path }');
    }
    const { onProgress, signal } = readOptions(options, 'uploadMany options', ['onProgress', 'signal']);
    const sizes = items.map((item) => (item && this._transport.fileInfo(item.file) || { size: 0 }).size);
    const loaded = sizes.map(() => 0);
    // Running sums, so each progress event costs the same however many files there are.
    let total = sizes.reduce((a, b) => a + b, 0);
    let sent = 0;
    const results = [];
    let next = 0;
    let completed = 0;
    // The file at `index` moved to `bytes` of `size` (the image step may have changed its size).
    const moved = (index, bytes, size) => {
      total += size - sizes[index];
      sent += bytes - loaded[index];
      sizes[index] = size;
      loaded[index] = bytes;
      notify(onProgress, { loaded: sent, total, completed, item: { index, loaded: bytes, total: size } });
    };
    const worker = async () => {
      while (next < items.length) {
        const index = next++;
        const item = items[index] || {};
        const progress = onProgress && (({ loaded: bytes, total: size }) => moved(index, bytes, size));
        try {
          const { contentType, image } = readOptions(item, 'uploadMany item', ['contentType', 'image']);
          const uploaded = await this._one(item.file, item.path, contentType, signal, progress, image);
          results[index] = { ok: true, ...uploaded, path: item.path };
        } catch (error) {
          results[index] = { ok: false, error, path: item.path };
        }
        completed++;
        if (onProgress) moved(index, sizes[index], sizes[index]);
      }
    };
    const workers = Math.min(this._options.concurrency, items.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return results;
  }

  /** Temporary download URLs, one result per file ID, in order (chunks of 50 inside). */
  async getTempFileUrls(fileIds, options) {
    const chunks = batches(fileIds, 'getTempFileUrls');
    const { maxAge, signal } = readOptions(options, 'getTempFileUrls options', ['maxAge', 'signal'], { maxAge: 3600 });
    return this._perFile(chunks, 'download-urls', maxAge, signal);
  }

  /** Deletes files; one result per file ID, in order (chunks of 50 inside). */
  async delete(fileIds) {
    return this._perFile(batches(fileIds, 'delete'), 'delete');
  }

  /**
   * One page of the stored files you may list (the backend's record of what went through
   * it): `{ files, cursor }`, `cursor` null on the last page.
   */
  async list(options) {
    const { prefix = '', cursor, limit, order, contains, signal } = readOptions(options, 'list options', ['prefix', 'cursor', 'limit', 'order', 'contains', 'signal']);
    const page = await this._backend('list', { prefix, cursor, limit, order, contains }, signal);
    if (!Array.isArray(page.files) || (page.cursor != null && typeof page.cursor != 'string')) {
      throw new StorageError('CREDENTIALS_FAILED', this._options.endpoint + '/list answered without files and a cursor');
    }
    return { files: page.files, cursor: page.cursor || null };
  }

  /** Every stored file `list` would give, page after page: `for await (const f of listAll())`. */
  async *listAll(options) {
    for (let cursor; ;) {
      const page = await this.list({ ...options, cursor });
      yield* page.files;
      if (!(cursor = page.cursor)) return;
    }
  }

  /** Downloads a file (a Blob in browsers), streamed, with progress when the length is known. */
  async download(fileId, options) {
    if (typeof fileId !== 'string') {
      throw new StorageError('INVALID_ARGUMENT', 'download(fileId): fileId must be a string');
    }
    const { onProgress, signal } = readOptions(options, 'download options', ['onProgress', 'signal']);
    const [link] = await this._perFile([[fileId]], 'download-urls', 600, signal);
    if (!link.ok) throw link.error;
    const { status, body } = this._answered(link.url, await this._transport.download(link.url, {
      signal,
      stallMs: this._options.timeoutMs,
      onProgress: onProgress && (({ loaded, total }) => notify(onProgress, { loaded, total })),
    }));
    if (status < 200 || status > 299) throw rules.downloadFailure(fileId, status, body);
    return body;
  }

  // The HTTP answer a transport resolved with, or the failure of a request that got none.
  _answered(url, outcome) {
    if (outcome.aborted) throw rules.abortError();
    if (outcome.timeout) throw rules.timeoutError(url, outcome.timeout, !!outcome.deadline);
    if (!outcome.status) throw rules.networkError(url, this._transport.origin());
    return outcome;
  }

  // One file of upload() or uploadMany(), through the steps of the modules it has (see the
  // top of this file) and the upload itself. `progress` gets { loaded, total, phase } in
  // bytes of the file sent.
  async _one(file, path, contentType, signal, progress, image) {
    if (image && !this._options.images) {
      throw new StorageError('INVALID_ARGUMENT', "upload option image needs the image module: import { images } from 'wx-cloud-storage/image' and pass new StorageClient({ images: images() })");
    }
    // `{ size, type }` of a file upload() takes on this platform, else INVALID_ARGUMENT.
    const infoOf = (what) => {
      const info = this._transport.fileInfo(what);
      if (!info) throw new StorageError('INVALID_ARGUMENT', 'upload: file must be ' + this._transport.FILE_KINDS);
      return info;
    };
    infoOf(file); // before any step works on it
    const job = {
      file, path, contentType, image, signal, fields: [], result: {},
      call: (name, body) => this._backend(name, body, signal),
      // Checks the file sent and its key: `{ size, type }` of the file (job.info).
      check: (key) => {
        rules.checkUpload(key, (job.info = infoOf(job.file)).size);
        job.checked = key;
      },
    };
    let sent;
    const steps = this._steps;
    const run = async (hook) => {
      for (const step of steps) if (step[hook]) await step[hook](job, sent);
    };
    if (steps.length) {
      await run('prepareFile');
      await run('beforeSend');
      if (job.done) return { ...job.done, ...job.result };
    }
    if (job.checked !== job.path) job.check(job.path);
    const by = steps.find((step) => step.send);
    sent = (by && (await by.send(job, progress))) || (await this._upload(job, progress));
    if (steps.length) await run('report');
    // A backend that limits sizes or types checks the object that landed (and deletes it,
    // answering TOO_LARGE or FORBIDDEN, if it breaks the limits). One report per upload.
    if (job.report || sent.verify) sent.verified = await job.call('verify', { ...job.report, file_id: sent.fileId });
    if (steps.length) await run('afterSend');
    return { fileId: sent.fileId, key: sent.key, size: sent.size, ...job.result };
  }

  // The upload itself: a fresh link per attempt (never minted ahead, so none expires in a
  // queue), retries with backoff, and one more fresh link if COS says the link expired.
  // `{ fileId, key, size, answer, verify }`: `answer` is COS's accepting answer (with the
  // CRC-64 header it carried, if the page could read it).
  async _upload({ file, path, info, fields, signal, contentType, wantCrc }, progress) {
    contentType = contentType || info.type || undefined;
    const { timeoutMs } = this._options;
    const size = info.size;
    // Bytes of the file sent, out of a body that also holds the form fields.
    const onProgress = progress && (({ loaded, total, phase }) =>
      progress({ loaded: phase === 'waiting' ? size : Math.min(Math.max(loaded - (total - size), 0), size), total: size, phase }));
    for (let retry = 0, refreshed = false; ;) {
      checkAbort(signal);
      const credentials = await this._credentials(path, file, size, contentType, signal);
      const form = rules.uploadForm(credentials, path, contentType);
      const outcome = await this._transport.uploadForm(form.url, fields.length ? form.fields.concat(fields) : form.fields, file, {
        fileName: form.fileName, signal, stallMs: timeoutMs, deadlineMs: rules.uploadDeadline(timeoutMs, size), onProgress, wantCrc,
      });
      try {
        const { status, body } = this._answered(form.url, outcome);
        rules.uploadAnswer(status, body);
      } catch (error) {
        if (error.code === 'CREDENTIALS_EXPIRED' && !refreshed) {
          refreshed = true;
          continue;
        }
        await this._backoff(error, ++retry, signal);
        continue;
      }
      return { fileId: form.fileId, key: form.key, size, answer: outcome, verify: credentials.verify };
    }
  }

  async _credentials(path, file, size, contentType, signal) {
    const custom = this._options.getUploadCredentials;
    if (!custom) return this._backend('upload-credentials', { path, size, contentType }, signal);
    try {
      return await custom(path, file);
    } catch (thrown) {
      throw callbackFailure(thrown, true);
    }
  }

  // POST {endpoint}/{name} with a JSON body, retrying what a retry can fix.
  async _backend(name, body, signal) {
    const { endpoint, credentials, container, timeoutMs } = this._options;
    const url = endpoint + '/' + name;
    const json = JSON.stringify(body);
    for (let retry = 0; ;) {
      const headers = { ...(await this._headers()), 'content-type': 'application/json' };
      const outcome = await this._transport.request(url, { method: 'POST', headers, body: json, credentials, container, signal, stallMs: timeoutMs });
      try {
        const { status, body, retryAfter } = this._answered(url, outcome);
        return rules.backendAnswer(url, status, body, retryAfter);
      } catch (error) {
        await this._backoff(error, ++retry, signal);
      }
    }
  }

  // The caller's headers for a backend call: the object given (checked when the client was
  // made), or what the function gives now, checked.
  async _headers() {
    const headers = this._options.headers;
    if (typeof headers !== 'function') return headers;
    try {
      return checkHeaders(await headers());
    } catch (thrown) {
      throw thrown instanceof StorageError ? thrown : callbackFailure(thrown, false);
    }
  }

  // Waits before retry number `retry`, or rethrows when the wasm says not to retry.
  async _backoff(error, retry, signal) {
    const ms = rules.retryDelay(String(error.code), error.status || 0, retry, this._options.retries, Math.random(), error.retryAfter);
    if (ms < 0) throw error;
    await sleep(ms);
    checkAbort(signal);
  }

  // Sends each batch of file IDs to a batch endpoint; one result per ID, in input order.
  async _perFile(chunks, endpoint, maxAge, signal) {
    const results = [];
    for (const fileIds of chunks) {
      checkAbort(signal);
      const body = endpoint === 'delete' ? { file_ids: fileIds } : { file_ids: fileIds, max_age: maxAge };
      results.push(...rules.batchResults(endpoint, fileIds, await this._backend(endpoint, body, signal)));
    }
    return results;
  }
}
