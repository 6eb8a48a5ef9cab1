// Types of `wx-cloud-storage/image`.
import type { ImageModule, ImageOptions } from './index.js';

export type { ImageOptions, ImageReport, ImageFacts } from './index.js';

export interface ImagesOptions extends ImageOptions {
  /** Decode and encode in a worker where the browser can (OffscreenCanvas), else on the main thread. Default true. */
  worker?: boolean;
}

/**
 * The image step for `new StorageClient({ images: images() })`: an upload with `image: true`
 * (these defaults) or `image: { maxWidth, maxHeight, quality, type }` goes up upright,
 * resized and compressed, never larger than it was; HEIC gets `image/heic`.
 */
export function images(options?: ImagesOptions): ImageModule;

/** A small upright preview, made off the main thread: `url` is an object URL (revoke it when done). */
export function thumbnail(file: Blob, options?: { maxWidth?: number; maxHeight?: number; worker?: boolean }): Promise<{ url: string; width: number; height: number; size: number }>;

/** An image's type by its first bytes: HEIC, HEIF, AVIF, JPEG, PNG, GIF, WebP or BMP; '' for anything else. */
export function imageType(file: Blob): Promise<string>;
