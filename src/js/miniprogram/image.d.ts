// Types of `wx-cloud-storage/image` in mini programs.
import type { ImageModule, ImageOptions, MiniProgramFile } from './index.js';

export type { ImageOptions, ImageReport, ImageFacts } from './index.js';

/**
 * The image step for `new StorageClient({ images: images() })`, by wx.getImageInfo and
 * wx.compressImage. The photo keeps its type (the platform cannot convert).
 */
export function images(options?: ImageOptions): ImageModule;

/** A small upright preview by wx.compressImage: `url` is a temp file path for an `<image>`. */
export function thumbnail(file: MiniProgramFile, options?: { maxWidth?: number; maxHeight?: number }): Promise<{ url: string; width: number; height: number; size: number }>;

/** An image's type by its first bytes; '' for anything else. */
export function imageType(file: MiniProgramFile): Promise<string>;
