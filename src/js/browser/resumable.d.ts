// Types of `wx-cloud-storage/resumable`.
import type { ResumableModule } from './index.js';

export interface ResumableOptions {
  /** Files at least this large go by parts (bytes, at least 1 MiB). Default 32 MiB. */
  threshold?: number;
  /** Parts in flight at once, 1–6. Default 3. */
  concurrency?: number;
  /**
   * Where what is needed to resume is kept: `true` (default) localStorage; `false` nothing
   * (an upload resumes only within one call); or your own `{ get, set, remove }` of strings.
   */
  store?: boolean | { get(key: string): string | null; set(key: string, value: string): void; remove(key: string): void };
}

/**
 * Large files by parts (COS multipart uploads the backend starts and signs, which needs
 * 开放接口服务): a few parts in flight, each retried on its own, each part's CRC-64 checked;
 * pausing is aborting the upload's signal, and uploading the same file to the same path
 * again (after a reload too) continues from the parts COS holds.
 */
export function resumable(options?: ResumableOptions): ResumableModule;
