// The mini program build's types: `tsc --noEmit` must pass, and the `@ts-expect-error` lines
// must be errors (so the types are not `any`).
import init, { AbortController, StorageClient, StorageError, validateKey, DEFAULT_WASM_PATH } from '../../pkg/miniprogram/index.js';
import type { MiniProgramFile, UploadManyResult, ListPage, StoredFile } from '../../pkg/miniprogram/index.js';

export async function useEverything(picked: { tempFilePath: string; size: number }): Promise<void> {
  await init(DEFAULT_WASM_PATH);
  const storage = new StorageClient({ endpoint: '/api/storage', container: { env: 'prod-1a2b', service: 'wxcs' } });
  const controller = new AbortController();
  const file: MiniProgramFile = picked;
  const { fileId } = await storage.upload(file, 'photos/a.jpg', {
    signal: controller.signal,
    onProgress: ({ loaded, total }) => console.log(loaded / total),
  });
  const results: UploadManyResult[] = await storage.uploadMany([{ file: 'wxfile://tmp_1.jpg', path: 'b.jpg' }]);
  const path: string = await storage.download(fileId);
  console.log(results, path, await storage.getTempFileUrls([fileId]), await storage.delete([fileId]));
  const page: ListPage = await storage.list({ limit: 20, signal: controller.signal });
  for await (const f of storage.listAll({ prefix: 'photos/' })) {
    const stored: StoredFile = f;
    console.log(stored.name, page.cursor);
  }
  try {
    validateKey('a/${filename}');
  } catch (e) {
    if (e instanceof StorageError) console.log(e.code);
  }
  // @ts-expect-error: a download is a temp file path, not a Blob
  const blob: Blob = await storage.download(fileId);
  // @ts-expect-error: container needs env and service
  new StorageClient({ container: { env: 'x' } });
  console.log(blob);
}

// The mini program's integrity module: files are paths.
import { integrity as mpIntegrity, DEFAULT_INTEGRITY_WASM_PATH } from '../../pkg/miniprogram/integrity.js';

export async function useMiniProgramIntegrity(path: string): Promise<void> {
  const module = mpIntegrity({ verify: 'header', contentMd5: true, wasm: DEFAULT_INTEGRITY_WASM_PATH });
  const { md5 } = await module.digest({ tempFilePath: path, size: 1 }, ['md5']);
  console.log(md5);
  // @ts-expect-error mini programs have no worker option
  mpIntegrity({ worker: false });
}

// The mini program's image step: the same options and report, files are paths.
import { images as mpImages, thumbnail as mpThumbnail } from '../../pkg/miniprogram/image.js';

export async function useMiniProgramImages(path: string): Promise<void> {
  const storage = new StorageClient({ images: mpImages({ maxWidth: 1080 }) });
  const { image } = await storage.upload(path, 'photos/a.jpg', { image: true });
  const { url } = await mpThumbnail({ tempFilePath: path, size: 1 });
  console.log(image?.changed, url);
  // @ts-expect-error mini programs have no worker option
  mpImages({ worker: false });
}

// The mini program's resumable module: files are paths.
import { resumable as mpResumable } from '../../pkg/miniprogram/resumable.js';

export async function useMiniProgramResumable(path: string): Promise<void> {
  const parts = mpResumable({ threshold: 32 * 1024 * 1024 });
  const storage = new StorageClient({ resumable: parts });
  const { via } = await storage.upload({ tempFilePath: path, size: 1 }, 'videos/a.mp4');
  const given: boolean = await parts.discard(path, 'videos/a.mp4');
  console.log(via, given);
}
