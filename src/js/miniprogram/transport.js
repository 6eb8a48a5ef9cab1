// The mini program transport: how requests leave a WeChat mini program, over wx.request /
// wx.cloud.callContainer, wx.uploadFile and wx.downloadFile, which report progress and have
// no CORS. It implements the Transport interface of ../shared/transport.d.ts, as the
// browser's (../browser/transport.js) does; miniprogram/index.js hands it to the client.
// Every request resolves (never rejects) with one of
//   { status, body }                 an HTTP answer (body: text, or a temp file path for downloads)
//   { status: 0 }                    no answer (offline, or a host outside the 合法域名 lists)
//   { aborted: true }                the caller's signal fired
//   { timeout: ms, deadline: false } no byte moved for ms (../shared/stall.js)
// At most 10 wx network tasks may run at once (the platform's limit): more wait here, in order.
/* global wx */
import { guard } from '../shared/stall.js';

/** What upload() takes here, for messages. */
export const FILE_KINDS = 'a file path, or a { tempFilePath | path, size } from wx.chooseMedia / wx.chooseMessageFile';

/** A mini program has no page origin; NETWORK messages point at the 合法域名 lists instead. */
export const origin = () => '';

const TYPES = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp',
  heic: 'image/heic', heif: 'image/heif', mp4: 'video/mp4', mov: 'video/quicktime', mp3: 'audio/mpeg',
  m4a: 'audio/mp4', aac: 'audio/aac', wav: 'audio/wav', pdf: 'application/pdf', txt: 'text/plain',
  json: 'application/json', csv: 'text/csv', zip: 'application/zip',
};

/** `{ size, type, path }` of a file upload() takes, or undefined for anything else. */
export function fileInfo(file) {
  const path = typeof file === 'string' ? file : file && (file.tempFilePath || file.path);
  if (typeof path !== 'string' || !path) return undefined;
  let size = typeof file === 'object' ? file.size : undefined;
  if (typeof size !== 'number') {
    try {
      size = wx.getFileSystemManager().statSync(path).size;
    } catch (_) {
      return undefined;
    }
  }
  const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return { size, type: TYPES[extension] || '', path };
}

// The platform runs at most 10 request / uploadFile / downloadFile tasks at once.
const MAX_TASKS = 10;
let running = 0;
const waiting = [];
const release = () => {
  running--;
  if (waiting.length) waiting.shift()();
};
const slot = () => (running < MAX_TASKS ? (running++, Promise.resolve()) : new Promise((go) => waiting.push(() => (running++, go()))));

// Runs one wx task in a platform slot: `start(done, fail, rearm)` starts it and returns it
// (or nothing, for calls that cannot be aborted); `done(result)` settles. The stall timer
// and the caller's signal abort it; `rearm` notes that bytes moved.
function task(signal, stallMs, start) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve({ aborted: true });
    slot().then(() => {
      let current = null;
      const { rearm, settle } = guard(signal, stallMs, false, () => current && current.abort && current.abort(), (result) => {
        release();
        resolve(result);
      });
      if (signal && signal.aborted) return settle({ aborted: true });
      // The platform's own timeout (60 s by default, at most 60 s) ends a call that never
      // answers; `fail` says so with an errMsg.
      const fail = (error) => settle(/timeout/i.test((error && error.errMsg) || '') ? { timeout: stallMs || 60000, deadline: false } : { status: 0 });
      current = start(settle, fail, rearm);
    });
  });
}

const header = (headers, name) => {
  for (const key in headers || {}) if (key.toLowerCase() === name) return headers[key];
  return undefined;
};
const text = (data) => (typeof data === 'string' ? data : data === undefined || data === null ? '' : JSON.stringify(data));

/**
 * A backend call by wx.request, or by wx.cloud.callContainer when `container` names the
 * Cloud Run service ({ env, service }: no 合法域名 needed; `url` is then the path).
 * @param {string} url
 * @param {import('../shared/transport.js').RequestOptions} options
 */
export function request(url, { method, headers, body, container, signal, stallMs }) {
  return task(signal, stallMs, (done, fail) => {
    const answer = (res) => done({ status: res.statusCode, body: text(res.data), retryAfter: parseInt(header(res.header, 'retry-after'), 10) || undefined });
    const call = { method, header: headers, data: body, dataType: 'text', responseType: 'text', success: answer, fail };
    if (stallMs > 0) call.timeout = Math.min(stallMs, 60000);
    if (container) {
      wx.cloud.callContainer({ ...call, path: url, config: { env: container.env }, header: { ...headers, 'X-WX-SERVICE': container.service } });
      return null;
    }
    return wx.request({ ...call, url });
  });
}

/**
 * The COS form upload by wx.uploadFile: the fields as formData, in the plan's order, and the
 * file as `name: 'file'`, which the platform writes after them (COS needs `file` last).
 * Progress comes from the task and re-arms the stall timer: onProgress({ loaded, total,
 * phase }), 'waiting' once every byte is out. (`fileName`, `deadlineMs` and `wantCrc` are
 * the browser's: the platform names the file, reports progress and always gives headers.)
 * @param {string} url
 * @param {Array<[string, string]>} fields
 * @param {unknown} file
 * @param {import('../shared/transport.js').UploadOptions} options
 */
export function uploadForm(url, fields, file, { signal, stallMs, onProgress }) {
  const formData = {};
  for (const [name, value] of fields) formData[name] = value;
  return task(signal, stallMs, (done, fail, rearm) => {
    // COS's CRC-64 of what it stored, for the integrity module: success carries no headers.
    let crc = null;
    const upload = wx.uploadFile({
      url, filePath: fileInfo(file).path, name: 'file', formData,
      success: (res) => done({ status: res.statusCode, body: text(res.data), crc, cors: false }),
      fail,
    });
    upload.onHeadersReceived(({ header }) => {
      const name = Object.keys(header || {}).find((key) => key.toLowerCase() === 'x-cos-hash-crc64ecma');
      crc = name ? String(header[name]) : null;
    });
    upload.onProgressUpdate(({ totalBytesSent: loaded, totalBytesExpectedToSend: total }) => {
      rearm();
      if (onProgress) onProgress({ loaded, total, phase: total > 0 && loaded >= total ? 'waiting' : 'sending' });
    });
    return upload;
  });
}

/**
 * A download by wx.downloadFile into a temp file; a 2xx resolves to its path, other answers
 * to their text. onProgress({ loaded, total, phase: 'receiving' }) as bytes arrive; each
 * re-arms the stall timer.
 * @param {string} url
 * @param {import('../shared/transport.js').DownloadOptions} options
 */
export function download(url, { signal, stallMs, onProgress }) {
  return task(signal, stallMs, (done, fail, rearm) => {
    const get = wx.downloadFile({
      url,
      success: ({ statusCode, tempFilePath }) => {
        if (statusCode >= 200 && statusCode < 300) return done({ status: statusCode, body: tempFilePath });
        let body = '';
        try {
          body = wx.getFileSystemManager().readFileSync(tempFilePath, 'utf8');
        } catch (_) { /* an error answer without a body */ }
        done({ status: statusCode, body });
      },
      fail,
    });
    get.onProgressUpdate(({ totalBytesWritten: loaded, totalBytesExpectedToWrite: total }) => {
      rearm();
      if (onProgress && total > 0) onProgress({ loaded, total, phase: 'receiving' });
    });
    return get;
  });
}
