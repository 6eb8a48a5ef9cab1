// The two admin consoles' logic, framework-free: the uploads themselves go through each
// component (Element Plus's <el-upload>, Ant Design's <Upload>) and the package's adapter
// for it; this is what is left: paths, previews, the list of stored files, links,
// download and delete.
import { thumbnail } from 'wx-cloud-storage/image';
import { baseName, describe, fileLibrary, getStorage, saveBlob } from './storage.js';

/** Where each console stores its uploads (under the user's folder, users/{uid}/). */
export const pathIn = (folder) => (file) => `${folder}/${file.name}`;

/**
 * A small upright preview of an image (an object URL, made off the main thread, so dropping
 * fifty 12-megapixel photos never freezes the page); '' for a file that is not an image or
 * that the browser cannot decode.
 */
export async function preview(file) {
  if (!file?.type?.startsWith('image/')) return '';
  return thumbnail(file, { maxWidth: 96, maxHeight: 96 }).then(({ url }) => url, () => '');
}

/** Remembers an upload the component reported done: `result` is the adapter's response. */
export function remember(folder, file, result) {
  fileLibrary(folder).add([{ fileId: result.fileId, name: file.name, size: result.size, type: file.type, at: Date.now() }]);
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

/** The stored files with a temporary URL each (for previews and links). */
export async function storedFiles(folder) {
  const files = fileLibrary(folder).list();
  if (!files.length) return [];
  const storage = await getStorage();
  const links = await storage.getTempFileUrls(files.map((f) => f.fileId), { maxAge: 3600 });
  return files.map((file, i) => ({
    ...file,
    url: links[i].ok ? links[i].url : '',
    missing: !links[i].ok && links[i].error.code === 'NOT_FOUND',
  }));
}

export async function downloadFile(fileId) {
  const storage = await getStorage();
  saveBlob(await storage.download(fileId), baseName(fileId));
}

/** Deletes files; removes the deleted (and the already-gone) from the list; throws the first failure. */
export async function deleteFiles(folder, fileIds) {
  const storage = await getStorage();
  const results = await storage.delete(fileIds);
  const gone = results.filter((r) => r.ok || r.error.code === 'NOT_FOUND').map((r) => r.fileId);
  fileLibrary(folder).remove(gone);
  const failed = results.find((r) => !r.ok && r.error.code !== 'NOT_FOUND');
  if (failed) throw failed.error;
}

export { describe, formatBytes } from './storage.js';
