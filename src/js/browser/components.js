// What the upload-component adapters (element-plus.js, antd.js) share: checking the
// caller's options, and one upload per file the component hands over, with progress in
// percent, a cancel, and at most `concurrency` uploads at a time (a component starts one
// request per dropped file at once; fifty photos must not mean fifty credential calls and
// fifty COS posts at once).
import { invalid } from '../shared/options.js';
import { StorageError } from '../shared/storage-error.js';

const OPTIONS = ['path', 'image', 'concurrency'];

/**
 * Checks `options` for `what(storage, options)` and returns `start(file, onPercent)`, which
 * begins one upload and returns `{ done, abort }`: `done` settles with the upload's result
 * (`{ fileId, key, size, … }`) or its StorageError; `abort()` cancels it, queued or sending.
 */
export function uploader(storage, options, what) {
  if (!storage || typeof storage.upload !== 'function') {
    throw invalid(`${what}(storage, options): storage must be a StorageClient (new StorageClient({ endpoint }))`);
  }
  if (!options || typeof options !== 'object' || typeof options.path !== 'function') {
    throw invalid(`${what}(storage, options): options.path must be a function from the file to its path, e.g. (file) => \`users/42/\${file.name}\``);
  }
  const unknown = Object.keys(options).find((name) => !OPTIONS.includes(name));
  if (unknown) {
    throw invalid(`${what}: unknown option "${unknown}"; the options are ${OPTIONS.join(', ')} (progress and cancel come from the component)`);
  }
  const { path, image, concurrency = 3 } = options;
  // Checked here rather than by options.js's readOptions: that would bundle its whole rule
  // table into each adapter file (+0.5 KB gzip as published), since the entry that also
  // has it is prebuilt. `image` is checked by the upload, as its own option.
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
    throw invalid(`${what}: concurrency must be a whole number from 1 to 16`);
  }
  const slot = limiter(concurrency);
  return (file, onPercent) => {
    const controller = new AbortController();
    const send = async () => storage.upload(file, await path(file), {
      image,
      signal: controller.signal,
      onProgress: ({ loaded, total }) => onPercent({ percent: total ? (loaded / total) * 100 : 100, loaded, total }),
    });
    // The component shows the file as uploading from the start, queued or not.
    onPercent({ percent: 0, loaded: 0, total: file.size });
    return { done: slot(send, controller.signal), abort: () => controller.abort() };
  };
}

// Runs tasks at most `max` at a time, in order. A task cancelled while it waits never
// runs: it rejects with the AbortError an upload cancelled by its signal has.
function limiter(max) {
  let running = 0;
  const waiting = [];
  const next = () => {
    if (running >= max || !waiting.length) return;
    running++;
    waiting.shift()().finally(() => {
      running--;
      next();
    });
  };
  return (task, signal) => new Promise((resolve, reject) => {
    const run = () => {
      signal.removeEventListener('abort', cancel);
      return task().then(resolve, reject);
    };
    const cancel = () => {
      const at = waiting.indexOf(run);
      if (at < 0) return;
      waiting.splice(at, 1);
      reject(new StorageError('ABORTED', 'the upload was cancelled while it waited for one of the `concurrency` upload slots; nothing was sent'));
    };
    signal.addEventListener('abort', cancel);
    waiting.push(run);
    next();
  });
}
