// The two admin consoles' logic, framework-free: the uploads themselves go through each
// component (Element Plus's <el-upload>, Ant Design's <Upload>) and the package's adapter
// for it; this is what is left: paths, previews, the stored files (listed by the backend,
// a page at a time), links, download and delete.
import { thumbnail } from 'wx-cloud-storage/image';
import { baseName, describe, getStorage, saveBlob } from './storage.js';

/** Where a console stores its uploads: `folder` + the file's name. */
export const pathIn = (folder) => (file) => `${folder}${file.name}`;

/**
 * A small upright preview of an image (an object URL, made off the main thread, so dropping
 * fifty 12-megapixel photos never freezes the page); '' for a file that is not an image or
 * that the browser cannot decode.
 */
export async function preview(file) {
  if (!file?.type?.startsWith('image/')) return '';
  return thumbnail(file, { maxWidth: 96, maxHeight: 96 }).then(({ url }) => url, () => '');
}

/**
 * The whole batch's progress, 0–100, weighted by size: `items` are `{ size, percent, state }`
 * where state is 'sending' or 'done'; files not in flight are left out.
 */
export function overallPercent(items) {
  const live = items.filter((item) => item.state === 'sending' || item.state === 'done');
  const total = live.reduce((sum, item) => sum + (item.size || 0), 0);
  if (!live.length) return 0;
  if (!total) return live.every((item) => item.state === 'done') ? 100 : 0;
  const sent = live.reduce((sum, item) => sum + (item.size || 0) * (item.state === 'done' ? 100 : item.percent || 0), 0);
  return Math.floor(sent / total);
}

/** One line per failure that was not a cancel: "name: CODE: what to do". */
export function failureText(failures) {
  return failures.filter((f) => f.error?.name !== 'AbortError').map((f) => `${f.name}: ${describe(f.error)}`).join('\n');
}

/**
 * The stored files under `prefix`, as the backend lists them (its record of what was
 * uploaded through it, so every browser and every admin sees the same), a page of
 * `pageSize` at a time, newest first, with a name filter, and a temporary URL each (for
 * previews and links). `load()` answers `{ rows, page, hasPrev, hasNext }`.
 */
export function filePages(prefix, pageSize = 10) {
  const starts = [null]; // the cursor each page starts at
  let page = 0;
  let contains = '';
  async function load() {
    const storage = await getStorage();
    const { files, cursor } = await storage.list({ prefix, limit: pageSize, order: 'newest', cursor: starts[page], contains: contains || undefined });
    starts[page + 1] = cursor;
    const links = files.length ? await storage.getTempFileUrls(files.map((f) => f.fileId), { maxAge: 3600 }) : [];
    const rows = files.map((file, i) => ({ ...file, url: links[i].ok ? links[i].url : '' }));
    return { rows, page, hasPrev: page > 0, hasNext: Boolean(cursor) };
  }
  return {
    /** The first page, of the files whose name contains `name`. */
    first(name = '') {
      contains = name;
      page = 0;
      starts.length = 1;
      return load();
    },
    next() {
      if (starts[page + 1]) page++;
      return load();
    },
    prev() {
      if (page > 0) page--;
      return load();
    },
    reload: load,
  };
}

export async function downloadFile(fileId) {
  const storage = await getStorage();
  saveBlob(await storage.download(fileId), baseName(fileId));
}

/** Deletes files (the backend drops them from its list); throws the first failure. */
export async function deleteFiles(fileIds) {
  const storage = await getStorage();
  const results = await storage.delete(fileIds);
  const failed = results.find((r) => !r.ok && r.error.code !== 'NOT_FOUND');
  if (failed) throw failed.error;
}

export { describe, formatBytes } from './storage.js';
