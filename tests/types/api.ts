// Uses the whole public API with strict types; `tsc --noEmit` must pass, and the
// `@ts-expect-error` lines must be errors (so the types are not `any`).
import init, { StorageClient, StorageError, validateKey } from '../../pkg/index.js';
import type { StorageErrorCode, UploadManyResult, TempUrlResult, DeleteResult, UploadProgress, DownloadProgress, ListPage, StoredFile } from '../../pkg/index.js';

export async function useEverything(file: File, token: string): Promise<void> {
  await init();
  const storage = new StorageClient({
    endpoint: '/api/storage',
    headers: () => ({ Authorization: `Bearer ${token}` }),
    credentials: 'include',
    concurrency: 3,
    retries: 3,
    timeoutMs: 60000,
    getUploadCredentials: async (path: string, blob: Blob) => ({
      url: 'u', token: 't', authorization: 'a', file_id: `cloud://e.b/${path}`, cos_file_id: String(blob.size),
    }),
  });
  const controller = new AbortController();
  const { fileId, key, size }: { fileId: string; key: string; size: number } = await storage.upload(file, 'users/42/a.png', {
    onProgress: ({ loaded, total, phase }: UploadProgress) => console.log(loaded / total, phase),
    signal: controller.signal,
    contentType: 'image/png',
  });
  const results: UploadManyResult[] = await storage.uploadMany([{ file, path: key }], {
    onProgress: ({ loaded, total, completed, item }) => console.log(loaded, total, completed, item.index, item.loaded / item.total),
  });
  for (const r of results) {
    if (r.ok) console.log(r.fileId, r.size);
    else console.log(r.path, r.error.code satisfies StorageErrorCode);
  }
  const urls: TempUrlResult[] = await storage.getTempFileUrls([fileId], { maxAge: 3600 });
  const blob: Blob = await storage.download(fileId, {
    signal: controller.signal,
    onProgress: ({ loaded, total }: DownloadProgress) => console.log(loaded / total),
  });
  const deleted: DeleteResult[] = await storage.delete([fileId]);
  const plain: Blob = await storage.download(fileId); // options are optional
  const defaults = new StorageClient();
  console.log(size, urls, blob.size, deleted, plain, defaults);
  const page: ListPage = await storage.list({ prefix: 'products/', limit: 50, order: 'newest', contains: 'a', signal: controller.signal });
  const next: ListPage = await storage.list({ cursor: page.cursor });
  for await (const stored of storage.listAll({ prefix: 'products/' })) {
    const f: StoredFile = stored;
    console.log(f.name, f.key, f.fileId, f.size, f.contentType ?? 'unknown', f.crc64, new Date(f.time));
  }
  // @ts-expect-error: an order that does not exist
  await storage.list({ order: 'oldest' });
  // @ts-expect-error: listAll walks every page itself
  storage.listAll({ cursor: 'x' });
  console.log(next.files.length);
  try {
    validateKey('a/${filename}.png');
  } catch (e) {
    if (e instanceof StorageError && e.code === 'INVALID_KEY') console.log(e.rule, e.byteOffset);
  }
  // @ts-expect-error: not an error code
  const wrong: StorageErrorCode = 'OOPS';
  // @ts-expect-error: a path is required
  await storage.upload(file);
  // @ts-expect-error: unknown credentials mode
  new StorageClient({ credentials: 'sometimes' });
  console.log(wrong);
}

// The optional integrity module, through its subpath's own types.
import { integrity } from '../../pkg/integrity.js';

export async function useIntegrity(file: File): Promise<void> {
  const module = integrity({ verify: 'server', deleteOnMismatch: true, contentMd5: false, skipExisting: true, worker: true });
  const storage = new StorageClient({ integrity: module });
  const memory: WebAssembly.Memory = await module.ready();
  const { crc64, sha256 } = await module.digest(file, ['crc64', 'sha256']);
  const result = await storage.upload(file, 'photos/{sha256}{ext}');
  const verdict: 'verified' | 'unverifiable' | undefined = result.integrity;
  const why: 'header-not-exposed' | 'header-absent' | undefined = result.integrityReason;
  const skipped: 'exists' | undefined = result.skipped;
  console.log(memory.buffer.byteLength, crc64, sha256, verdict, why, skipped, result.crc64);
  // @ts-expect-error verify takes 'header' or 'server' only
  integrity({ verify: 'both' });
  // @ts-expect-error digests are named
  await module.digest(file, ['sha1']);
}

// The optional image step, through its subpath's own types.
import { images, thumbnail, imageType } from '../../pkg/image.js';
import type { ImageReport } from '../../pkg/image.js';

export async function useImages(file: File): Promise<void> {
  const storage = new StorageClient({ images: images({ maxWidth: 1920, quality: 0.8, worker: true }) });
  const result = await storage.upload(file, 'photos/a.jpg', { image: { maxWidth: 1280, type: 'image/webp' } });
  const report: ImageReport | undefined = result.image;
  const many = await storage.uploadMany([{ file, path: 'b.jpg', image: true }]);
  const { url, width } = await thumbnail(file, { maxWidth: 128 });
  const type: string = await imageType(file);
  console.log(report?.original.size, report?.reason, many, url, width, type);
  // @ts-expect-error browsers encode JPEG, PNG and WebP only
  await storage.upload(file, 'c.gif', { image: { type: 'image/gif' } });
  // @ts-expect-error quality is a number
  images({ quality: 'high' });
}


// The optional resumable module, through its subpath's own types.
import { resumable } from '../../pkg/resumable.js';

export async function useResumable(file: File, signal: AbortSignal): Promise<void> {
  const parts = resumable({ threshold: 64 * 1024 * 1024, concurrency: 4, store: true });
  const storage = new StorageClient({ resumable: parts, integrity: integrity() });
  const result = await storage.upload(file, 'videos/a.mp4', { signal });
  const via: 'parts' | 'post' | undefined = result.via;
  const resumed: number | undefined = result.resumedParts;
  const given: boolean = await parts.discard(file, 'videos/a.mp4');
  const memory = new Map<string, string>();
  resumable({ store: { get: (k) => memory.get(k) ?? null, set: (k, v) => void memory.set(k, v), remove: (k) => void memory.delete(k) } });
  console.log(via, resumed, given);
  // @ts-expect-error concurrency is a number
  resumable({ concurrency: 'many' });
}
