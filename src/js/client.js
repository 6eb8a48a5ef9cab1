// The StorageClient: what the library does, step by step. Every rule it applies (option
// checks, key rules, the upload form, what each answer means, when to retry and how long
// to wait) is a call into the wasm (`rules`); this file only sequences those calls,
// awaits the transport and reports progress. The transport is the platform's:
// ./transport.js in browsers; the mini program build swaps in one over wx.* APIs.
import * as rules from './wx_cloud_storage.js';
import * as transport from './transport.js';
import { StorageError } from './storage-error.js';
import { checkHeaders, readOptions } from './options.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Whether the platform entry (index.js, or the mini program's) has loaded the wasm.
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

// The HTTP answer a transport resolved with, or the failure of a request that got none.
function answered(url, outcome) {
  if (outcome.aborted) throw rules.abortError();
  if (outcome.timeout) throw rules.timeoutError(url, outcome.timeout, !!outcome.deadline);
  if (!outcome.status) throw rules.networkError(url, transport.origin());
  return outcome;
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
  constructor(options) {
    assertLoaded('new StorageClient');
    const read = readOptions(options, 'new StorageClient(options): options',
      ['endpoint', 'headers', 'credentials', 'container', 'retries', 'concurrency', 'timeoutMs', 'getUploadCredentials', 'integrity', 'images'],
      { endpoint: '/api/storage', concurrency: 3, timeoutMs: 60000 });
    read.endpoint = read.endpoint.replace(/\/+$/, '');
    this._options = read;
  }

  /** Uploads `file` to `path`: `{ fileId, key, size }`. */
  async upload(file, path, options) {
    const { onProgress, signal, contentType, image } = readOptions(options, 'upload options', ['onProgress', 'signal', 'contentType', 'image']);
    const progress = onProgress &&
      ((loaded, waiting, total) => notify(onProgress, { loaded, total, phase: waiting ? 'waiting' : 'sending' }));
    return this._one(file, path, contentType, signal, progress, image);
  }

  /** Uploads many files, `concurrency` at a time; one result per item, in input order. */
  async uploadMany(items, options) {
    if (!Array.isArray(items) || !items.length) {
      throw new StorageError('INVALID_ARGUMENT', 'uploadMany(items): items must be a non-empty array of { file, path }');
    }
    const { onProgress, signal } = readOptions(options, 'uploadMany options', ['onProgress', 'signal']);
    const sizes = items.map((item) => (item && transport.fileInfo(item.file) || { size: 0 }).size);
    const loaded = sizes.map(() => 0);
    const sum = (list) => list.reduce((a, b) => a + b, 0);
    const results = [];
    let next = 0;
    let completed = 0;
    const report = (index) => onProgress && notify(onProgress, {
      loaded: sum(loaded), total: sum(sizes), completed,
      item: { index, loaded: loaded[index], total: sizes[index] },
    });
    const worker = async () => {
      while (next < items.length) {
        const index = next++;
        const item = items[index] || {};
        // (`size`: of the file sent, which the image step may have made smaller)
        const progress = onProgress && ((bytes, waiting, size) => { sizes[index] = size; loaded[index] = bytes; report(index); });
        try {
          const { contentType, image } = readOptions(item, 'uploadMany item', ['contentType', 'image']);
          const uploaded = await this._one(item.file, item.path, contentType, signal, progress, image);
          results[index] = { ok: true, ...uploaded, path: item.path };
        } catch (error) {
          results[index] = { ok: false, error, path: item.path };
        }
        loaded[index] = sizes[index];
        completed++;
        report(index);
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

  /** Downloads a file (a Blob in browsers), streamed, with progress when the length is known. */
  async download(fileId, options) {
    if (typeof fileId !== 'string') {
      throw new StorageError('INVALID_ARGUMENT', 'download(fileId): fileId must be a string');
    }
    const { onProgress, signal } = readOptions(options, 'download options', ['onProgress', 'signal']);
    const [link] = await this._perFile([[fileId]], 'download-urls', 600, signal);
    if (!link.ok) throw link.error;
    const { status, body } = answered(link.url, await transport.download(link.url, signal, this._options.timeoutMs, onProgress));
    if (status < 200 || status > 299) throw rules.downloadFailure(fileId, status, body);
    return body;
  }

  // The integrity module's way to the same checks.
  _target(file, path) {
    return target(file, path);
  }

  // One file of upload() or uploadMany(): first through the image step when the call asks
  // for one (wx-cloud-storage/image: resize, compress, orient, the right type), then through
  // the integrity module when the client has one (wx-cloud-storage/integrity: digests, key
  // templates, verdicts), else straight up.
  async _one(file, path, contentType, signal, progress, image) {
    const { integrity, images } = this._options;
    let report;
    // The file and path checked before any work; again only for a file the image step made.
    let info;
    if (images) {
      info = target(file, path);
      const picked = file;
      ({ file, contentType, report } = await images.prepare(file, contentType, image));
      if (file !== picked) info = undefined;
    } else if (image) {
      throw new StorageError('INVALID_ARGUMENT', "upload option image needs the image module: import { images } from 'wx-cloud-storage/image' and pass new StorageClient({ images: images() })");
    }
    const uploaded = integrity
      ? await integrity.upload(this, file, path, contentType, signal, progress)
      : await this._upload(file, info || target(file, path), path, contentType, signal, progress);
    return report ? { ...uploaded, image: report } : uploaded;
  }

  // One file: a fresh link per attempt (never minted ahead, so none expires in a queue),
  // retries with backoff, and one more fresh link if COS says the link expired. `extra`
  // (the integrity module's): `fields` to send before the file, and `answer`, set to COS's
  // accepting answer (with the CRC-64 header it carried, if the page could read it).
  async _upload(file, info, path, contentType, signal, progress, extra) {
    contentType = contentType || info.type || undefined;
    const { timeoutMs } = this._options;
    // Bytes of the file sent, out of a body that also holds the form fields.
    const onProgress = progress && ((sent, total, waiting) =>
      progress(waiting ? info.size : Math.min(Math.max(sent - (total - info.size), 0), info.size), waiting, info.size));
    for (let retry = 0, refreshed = false; ;) {
      checkAbort(signal);
      const credentials = await this._credentials(path, file, info.size, contentType, signal);
      const form = rules.uploadForm(credentials, path, contentType);
      const deadline = rules.uploadDeadline(timeoutMs, info.size);
      const fields = extra && extra.fields ? form.fields.concat(extra.fields) : form.fields;
      const outcome = await transport.uploadForm(form.url, fields, file, form.fileName, signal, timeoutMs, deadline, onProgress, !!extra);
      try {
        const { status, body } = answered(form.url, outcome);
        rules.uploadAnswer(status, body);
      } catch (error) {
        if (error.code === 'CREDENTIALS_EXPIRED' && !refreshed) {
          refreshed = true;
          continue;
        }
        await this._backoff(error, ++retry, signal);
        continue;
      }
      // A backend that limits sizes or types checks the object that landed (and deletes
      // it, answering TOO_LARGE or FORBIDDEN, if it breaks the limits).
      if (credentials.verify) await this._backend('verify', { file_id: form.fileId }, signal);
      if (extra) extra.answer = outcome;
      return { fileId: form.fileId, key: form.key, size: info.size };
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
      const outcome = await transport.request(url, { method: 'POST', headers, body: json, credentials, container, signal, stallMs: timeoutMs });
      try {
        const { status, body, retryAfter } = answered(url, outcome);
        return rules.backendAnswer(url, status, body, retryAfter);
      } catch (error) {
        await this._backoff(error, ++retry, signal);
      }
    }
  }

  async _headers() {
    let headers = this._options.headers;
    if (typeof headers === 'function') {
      try {
        headers = await headers();
      } catch (thrown) {
        throw callbackFailure(thrown, false);
      }
    }
    return checkHeaders(headers);
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

// Checks an upload's file and path before any request: `{ size, type }` of the file.
function target(file, path) {
  const info = transport.fileInfo(file);
  if (!info) throw new StorageError('INVALID_ARGUMENT', 'upload: file must be ' + transport.FILE_KINDS);
  rules.checkUpload(path, info.size);
  return info;
}
