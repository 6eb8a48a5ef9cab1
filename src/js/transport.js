// The transport: how the library's requests leave the browser. Two functions, both
// resolving (never rejecting) with one of
//   { status, body }   an HTTP answer (body: text, or a Blob when asked for one)
//   { status: 0 }      no answer (offline, DNS, CORS: the browser does not say which)
//   { aborted: true }  the caller's signal fired
//   { timeout: true }  no byte moved for stallMs (a stall timer, not a wall clock)
// A WeChat mini-program transport (wx.request / wx.uploadFile) would be another file with
// these two functions; the upload logic in Rust never changes. Kept in JS so event
// handlers need no per-request wasm closures; every listener and timer is cleared when
// the request settles.

function guard(signal, stallMs, cancel, resolve) {
  let timer;
  let timedOut = false;
  const onAbort = () => cancel();
  const arm = () => {
    clearTimeout(timer);
    if (stallMs > 0) timer = setTimeout(() => { timedOut = true; cancel(); }, stallMs);
  };
  if (signal) signal.addEventListener('abort', onAbort);
  arm();
  const settle = (result) => {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
    resolve(signal && signal.aborted ? { aborted: true } : timedOut ? { timeout: true } : result);
  };
  return { arm, settle };
}

// Any request by fetch. With asBlob, a 2xx body is read as a stream into a Blob (never
// into wasm memory), calling onProgress({ loaded, total }) when the length is known (a
// throwing callback is ignored).
export function request(url, method, headers, body, credentials, signal, stallMs, asBlob, onProgress) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve({ aborted: true });
    const controller = new AbortController();
    const { arm, settle } = guard(signal, stallMs, () => controller.abort(), resolve);
    const init = { method, headers, body, signal: controller.signal };
    if (credentials) init.credentials = credentials;
    fetch(url, init).then(async (response) => {
      arm();
      const status = response.status;
      if (!asBlob || status < 200 || status > 299 || !response.body) {
        return settle({ status, body: asBlob && status < 300 ? await response.blob() : await response.text() });
      }
      const total = Number(response.headers.get('content-length')) || 0;
      const reader = response.body.getReader();
      const chunks = [];
      let loaded = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.length;
        arm();
        if (onProgress && total) try { onProgress({ loaded, total }); } catch (_) { /* never breaks */ }
      }
      settle({ status, body: new Blob(chunks, { type: response.headers.get('content-type') || '' }) });
    }).catch(() => settle({ status: 0 }));
  });
}

// A multipart form upload by XMLHttpRequest, the only browser API that reports upload
// progress: onProgress(sent, total, waiting) as bytes leave, then once with waiting=true
// when the last byte is out and the server is processing. Progress also re-arms the
// stall timer, so a slow but moving upload never times out.
export function uploadForm(url, form, signal, stallMs, onProgress) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve({ aborted: true });
    const xhr = new XMLHttpRequest();
    const { arm, settle } = guard(signal, stallMs, () => xhr.abort(), resolve);
    // Upload listeners make a cross-origin request non-simple: the browser then sends a CORS
    // preflight first (one more round trip per upload). They are attached only when
    // progress or the stall timer needs them.
    if (onProgress || stallMs > 0) {
      xhr.upload.onprogress = (e) => {
        arm();
        if (onProgress && e.lengthComputable) onProgress(e.loaded, e.total, false);
      };
      xhr.upload.onload = () => { arm(); if (onProgress) onProgress(1, 1, true); };
    }
    xhr.onload = () => settle({ status: xhr.status, body: xhr.responseText });
    xhr.onerror = () => settle({ status: 0 });
    xhr.onabort = () => settle({ status: 0 });
    xhr.open('POST', url);
    xhr.send(form);
  });
}
