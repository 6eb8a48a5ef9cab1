// `wx-cloud-storage/antd`: a StorageClient as Ant Design's `<Upload customRequest>`.
// Progress goes to the component in percent, the upload's result (`{ fileId, key, size }`)
// becomes the file's `response`, a StorageError becomes its `error` (and its tooltip reads
// "CODE: what to do"), and the component's remove cancels the upload.
//
//   <Upload multiple customRequest={antdUpload(storage, { path: (file) => `users/42/${file.name}` })} />
import { uploader } from './components.js';

/** The `customRequest` that uploads each file with `storage` to `options.path(file)`. */
export function antdUpload(storage, options) {
  const start = uploader(storage, options, 'antdUpload');
  return ({ file, onProgress, onSuccess, onError }) => {
    const { done, abort } = start(file, (event) => onProgress?.(event));
    done.then(
      (result) => onSuccess?.(result),
      // The list item's tooltip shows a string response in place of a generic "upload error".
      (error) => onError?.(error, error && error.code ? `${error.code}: ${error.message}` : String(error?.message ?? error)),
    );
    return { abort };
  };
}
