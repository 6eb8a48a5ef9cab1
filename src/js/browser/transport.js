// The browser transport: how requests leave a web page (fetch, and XHR for upload
// progress). It implements the Transport interface of ../shared/transport.d.ts, which the
// mini program's (../miniprogram/transport.js) implements too; browser/index.js hands it
// to the client. Every request resolves (never rejects) with one of
//   { status, body }                 an HTTP answer (body: text, or a Blob for downloads)
//   { status: 0 }                    no answer (offline, DNS, CORS: the browser hides which)
//   { aborted: true }                the caller's signal fired
//   { timeout: ms, deadline: bool }  no byte moved for ms (../shared/stall.js), or the
//                                    deadline of an upload that cannot see its bytes leave
// and the wasm says what each means. Every listener and timer is cleared when it settles.
import { guard } from '../shared/stall.js';

/** The page's origin, which a CORS refusal is about (named in NETWORK errors). */
export const origin = () => (typeof location === 'undefined' ? '' : location.origin);

/** What upload() takes here, for messages. */
export const FILE_KINDS = 'a Blob or File';

/** `{ size, type }` of a file upload() takes, or undefined for anything else. */
export function fileInfo(file) {
  return typeof Blob !== 'undefined' && file instanceof Blob ? { size: file.size, type: file.type } : undefined;
}

// A fetch whose answer `read(response, rearm)` turns into a result.
function fetchWith(url, init, signal, ms, deadline, read) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve({ aborted: true });
    const controller = new AbortController();
    const { rearm, settle } = guard(signal, ms, deadline, () => controller.abort(), resolve);
    init.signal = controller.signal;
    fetch(url, init)
      .then(async (response) => {
        if (!deadline) rearm();
        settle(await read(response, deadline ? () => {} : rearm));
      })
      .catch(() => settle({ status: 0 }));
  });
}

const asText = async (response) => ({ status: response.status, body: await response.text() });

// COS's CRC-64 of the stored object; a page reads it only if the bucket's CORS exposes it.
const CRC = 'x-cos-hash-crc64ecma';

// COS's answer to a form: a refusal's body says why; a success's is not waited for (COS
// sends none, 204, to a form without success_action_status), since in Chromium waiting for
// even an empty body costs about 1.5 ms an upload (the bench saw many small uploads at
// 0.94× a hand-written fetch that never read it). Its CRC-64 header is read only when asked.
const acceptedOrText = (wantCrc) => (response) => {
  if (!response.ok) return asText(response);
  if (response.body) response.body.cancel().catch(() => {});
  return wantCrc
    ? { status: response.status, body: '', crc: response.headers.get(CRC), cors: response.type === 'cors' }
    : { status: response.status, body: '' };
};

// The CRC header among XHR's readable headers. (getResponseHeader of a hidden header would
// log "Refused to get unsafe header" in the page's console.)
export const crcIn = (headers) => (/^x-cos-hash-crc64ecma:\s*(\d+)/im.exec(headers) || [])[1] || null;

/**
 * A backend call by fetch: a 2xx body comes back parsed (JSON), any other as text, with the
 * seconds of a 429's or 503's Retry-After header (the HTTP-date form is ignored).
 * (`container` is the mini program's.)
 * @param {string} url
 * @param {import('../shared/transport.js').RequestOptions} options
 */
export function request(url, { method, headers, body, credentials, signal, stallMs }) {
  const init = { method, headers, body };
  if (credentials) init.credentials = credentials;
  return fetchWith(url, init, signal, stallMs, false, async (response) => {
    const { status } = response;
    if (response.ok) return { status, body: await response.json().catch(() => '') };
    const retryAfter = status === 429 || status === 503 ? parseInt(response.headers.get('retry-after'), 10) : 0;
    return { status, body: await response.text(), retryAfter: retryAfter || undefined };
  });
}

/**
 * The COS form upload: the fields in the plan's order, then the file, always last. With no
 * onProgress it goes by fetch, a simple cross-origin request (no CORS preflight) that
 * cannot see its bytes leave, so it ends at `deadlineMs` (0: never). With onProgress it
 * goes by XMLHttpRequest, the only browser API that reports upload progress:
 * onProgress({ loaded, total, phase }) in bytes of the body as they leave ('sending'),
 * then once 'waiting' while COS processes; each event re-arms the stall timer, so a slow
 * but moving upload never times out. `wantCrc`: also resolve with COS's CRC-64 header
 * (`crc`, null if the page cannot read it) and whether the answer was cross-origin (`cors`).
 * @param {string} url
 * @param {Array<[string, string]>} fields
 * @param {unknown} file
 * @param {import('../shared/transport.js').UploadOptions} options
 */
export function uploadForm(url, fields, file, { fileName, signal, stallMs, deadlineMs, onProgress, wantCrc }) {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  form.append('file', file, fileName);
  if (!onProgress) return fetchWith(url, { method: 'POST', body: form }, signal, deadlineMs, true, acceptedOrText(wantCrc));
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve({ aborted: true });
    const xhr = new XMLHttpRequest();
    const { rearm, settle } = guard(signal, stallMs, false, () => xhr.abort(), resolve);
    // Upload listeners make the request non-simple: the browser sends a CORS preflight.
    // That is the price of progress, paid only when the caller asks for it.
    xhr.upload.onprogress = (e) => {
      rearm();
      if (e.lengthComputable) onProgress({ loaded: e.loaded, total: e.total, phase: 'sending' });
    };
    xhr.upload.onload = () => {
      rearm();
      onProgress({ loaded: 1, total: 1, phase: 'waiting' });
    };
    // Only what is needed is read: a success's (empty) body is not, nor its headers unless
    // the integrity module asks for COS's CRC-64.
    xhr.onload = () => {
      const ok = xhr.status >= 200 && xhr.status < 300;
      settle(ok && wantCrc
        ? { status: xhr.status, body: '', crc: crcIn(xhr.getAllResponseHeaders()), cors: new URL(url, location.href).origin !== origin() }
        : { status: xhr.status, body: ok ? '' : xhr.responseText });
    };
    xhr.onerror = xhr.onabort = () => settle({ status: 0 });
    xhr.open('POST', url);
    xhr.send(form);
  });
}

/**
 * A download by fetch: a 2xx body is streamed into a Blob (never into wasm memory),
 * calling onProgress({ loaded, total, phase: 'receiving' }) when the length is known;
 * every chunk re-arms the stall timer. Other answers come back as text.
 * @param {string} url
 * @param {import('../shared/transport.js').DownloadOptions} options
 */
export function download(url, { signal, stallMs, onProgress }) {
  return fetchWith(url, {}, signal, stallMs, false, async (response, rearm) => {
    const status = response.status;
    if (status < 200 || status > 299 || !response.body) return asText(response);
    const total = Number(response.headers.get('content-length')) || 0;
    const reader = response.body.getReader();
    const chunks = [];
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      rearm();
      if (onProgress && total) onProgress({ loaded, total, phase: 'receiving' });
    }
    return { status, body: new Blob(chunks, { type: response.headers.get('content-type') || '' }) };
  });
}
