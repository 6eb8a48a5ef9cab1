// `wx-cloud-storage/element-plus`: a StorageClient as Element Plus's `<el-upload
// :http-request>`. Progress goes to the component in percent, the upload's result
// (`{ fileId, key, size }`) becomes the file's `response`, a StorageError goes to its
// error handler, and the component's own remove and `abort()` cancel the upload.
//
//   <el-upload multiple :http-request="elementPlusUpload(storage, { path: (file) => `users/42/${file.name}` })" />
import { uploader } from './components.js';

/** The `http-request` handler that uploads each file with `storage` to `options.path(file)`. */
export function elementPlusUpload(storage, options) {
  const start = uploader(storage, options, 'elementPlusUpload');
  return ({ file, onProgress, onSuccess, onError }) => {
    const { done, abort } = start(file, onProgress);
    done.then(onSuccess, onError);
    return abortHandle(abort);
  };
}

// Element Plus cancels a request (on remove, or its `abort()`) only when the handler returned
// an XMLHttpRequest (upload-content.vue: `if (req instanceof XMLHttpRequest) req.abort()`);
// a Promise it cannot cancel at all. So the handler settles the component's callbacks
// itself and returns a handle that passes that check and whose `abort()` is the upload's.
function abortHandle(abort) {
  if (typeof XMLHttpRequest !== 'function') return { abort };
  return Object.create(XMLHttpRequest.prototype, { abort: { value: abort } });
}
