// Local files for the mini program build's optional modules (integrity, image): a file
// checked once, its bytes read a slice at a time, the FileSystemManager's callbacks as
// promises whose failures are INVALID_ARGUMENTs naming the file.
/* global wx */
import { invalid } from '../shared/options.js';
import { fileInfo } from './transport.js';

/** `{ size, type, path }` of a file upload() takes (a path, or `{ tempFilePath | path, size }`), else INVALID_ARGUMENT. */
export function localFile(file, what) {
  const info = fileInfo(file);
  if (!info) throw invalid(`${what}: file must be a local file path or { tempFilePath, size }`);
  return info;
}

/** A FileSystemManager method as a promise; its failure an INVALID_ARGUMENT naming the file. */
export const fsCall = (method, options) => new Promise((resolve, reject) => {
  wx.getFileSystemManager()[method]({
    ...options,
    success: resolve,
    fail: ({ errMsg } = {}) => reject(invalid(`could not read ${options.filePath}: ${errMsg || method + ' failed'}`)),
  });
});

/** `length` bytes of the local file at `path` from `position` (readFile with both: base library 2.10.0). */
export async function readSlice(path, position, length) {
  const { data } = await fsCall('readFile', { filePath: path, position, length });
  return new Uint8Array(data, 0, length);
}
