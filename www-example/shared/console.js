// The two admin consoles' logic, framework-free: Vue and React only render it.
import { thumbnail } from 'wx-cloud-storage/image';
import { baseName, describe, fileLibrary, getStorage, saveBlob } from './storage.js';

/** A queued file as the consoles show it. */
export function queued(file) {
  return { id: crypto.randomUUID(), file, name: file.name, size: file.size, status: 'pending', loaded: 0, error: '' };
}

/**
 * Gives each queued image in `rows` a `preview` (a small object URL made off the main thread,
 * so dropping fifty 12-megapixel photos never freezes the page), calling `onChange` as each
 * arrives. Rows are mutated in place; files the browser cannot decode get none.
 */
export function addPreviews(rows, onChange) {
  for (const row of rows) {
    if (row.preview !== undefined || !row.file.type.startsWith('image/')) continue;
    row.preview = '';
    thumbnail(row.file, { maxWidth: 96, maxHeight: 96 })
      .then(({ url }) => {
        row.preview = url;
        onChange();
      })
      .catch(() => {});
  }
}

/**
 * Uploads `rows` (those pending or failed) with one `uploadMany` call under `signal`.
 * `onChange(percent)` is called with the overall percentage whenever it or a row changes;
 * rows are mutated in place (the frameworks re-render from them). Resolves to the
 * `uploadMany` results, or undefined when nothing was waiting.
 */
export async function uploadRows(rows, folder, signal, onChange) {
  const storage = await getStorage();
  const batch = rows.filter((row) => row.status === 'pending' || row.status === 'failed');
  if (!batch.length) return;
  for (const row of batch) Object.assign(row, { status: 'uploading', loaded: 0, error: '' });
  onChange(0);
  const results = await storage.uploadMany(
    batch.map((row) => ({ file: row.file, path: `${folder}/${row.name}` })),
    {
      signal,
      onProgress: ({ loaded, total, item }) => {
        batch[item.index].loaded = item.loaded;
        onChange(total ? Math.round((loaded / total) * 100) : 100);
      },
    },
  );
  const stored = [];
  results.forEach((result, i) => {
    const row = batch[i];
    if (result.ok) {
      Object.assign(row, { status: 'done', loaded: row.size, fileId: result.fileId });
      stored.push({ fileId: result.fileId, name: row.name, size: row.size, type: row.file.type, at: Date.now() });
    } else if (result.error.name === 'AbortError') {
      Object.assign(row, { status: 'failed', error: '已取消 · cancelled' });
    } else {
      Object.assign(row, { status: 'failed', error: describe(result.error) });
    }
  });
  fileLibrary(folder).add(stored);
  onChange(100);
  return results;
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
