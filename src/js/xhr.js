// XMLHttpRequest upload with progress, used only when the caller asks for onProgress
// (fetch cannot report upload progress). Kept in JS: event handlers written here need no
// per-request wasm closures, and every listener is removed when the request settles.
// Resolves (never rejects) with { status, text } — status 0 means no answer — or
// { aborted: true } when the signal fired.
export function xhrUpload(url, form, signal, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const settle = (result) => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total, false); };
    // The last byte is out: from here on the server is processing.
    xhr.upload.onload = () => onProgress(1, 1, true);
    xhr.onload = () => settle({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => settle({ status: 0, text: '' });
    xhr.onabort = () => settle({ aborted: true });
    xhr.open('POST', url);
    if (signal) signal.addEventListener('abort', onAbort);
    xhr.send(form);
  });
}
