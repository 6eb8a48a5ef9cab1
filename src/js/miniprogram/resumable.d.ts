// Types of `wx-cloud-storage/resumable` in mini programs.
import type { ResumableModule } from './index.js';
import type { ResumableOptions as BrowserResumableOptions } from '../resumable.js';

export type ResumableOptions = BrowserResumableOptions;

/**
 * Large files by parts, read by `readFile` with position and length and sent by
 * `wx.request` (`PUT`); what is needed to resume after an app restart is kept with
 * `wx.setStorageSync` (the default store).
 */
export function resumable(options?: ResumableOptions): ResumableModule;
