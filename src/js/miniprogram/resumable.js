// `wx-cloud-storage/resumable` in WeChat mini programs (the mini program build's
// resumable.js, CommonJS): the same logic as in browsers (../shared/resumable-core.js),
// with each part read from the file by `readFile` with position and length (one part in
// memory at a time per part in flight: mind the platform's memory with large parts) and
// sent by `wx.request` with `method: 'PUT'`; what is needed to resume after an app restart
// is kept with wx.setStorageSync.
//
//   const { resumable } = require('wx-cloud-storage/resumable');
//   const storage = new StorageClient({ endpoint, resumable: resumable() });
/* global wx */
import { guard } from '../shared/stall.js';
import { makeResumable } from '../shared/resumable-core.js';
import { localFile, readSlice } from './files.js';

/** One part (the bytes read from the file) PUT to `url` with `headers`, by wx.request. */
function put(url, headers, { bytes }, { signal, stallMs }) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve({ aborted: true });
    let task;
    const { settle } = guard(signal, stallMs, false, () => task && task.abort(), resolve);
    const data = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    task = wx.request({
      url, method: 'PUT', header: headers, data, dataType: 'text', responseType: 'text',
      success: (res) => {
        const header = res.header || {};
        const crc = header['x-cos-hash-crc64ecma'] || header['X-Cos-Hash-Crc64ecma'] || null;
        settle({ status: res.statusCode, body: typeof res.data === 'string' ? res.data : '', crc });
      },
      fail: () => settle({ status: 0 }),
    });
  });
}

const store = {
  get: (key) => wx.getStorageSync(key) || null,
  set: (key, value) => wx.setStorageSync(key, value),
  remove: (key) => wx.removeStorageSync(key),
};

/** The resumable module for `new StorageClient({ resumable: resumable() })`. */
export function resumable(options) {
  const local = (file) => localFile(file, 'upload(file)');
  return makeResumable(options, {
    slice: (file, start, end) => readSlice(local(file).path, start, end - start),
    name: (file) => (file && typeof file.name === 'string' ? file.name : local(file).path.replace(/^.*[\\/]/, '')),
    // A temp file's path changes with each pick; its modification time is not exposed
    // without a stat, so the path's name, size and samples stand for it.
    modified: () => 0,
    put,
    store,
  });
}
