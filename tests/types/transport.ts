// Both platform transports implement the one declared interface the client is written
// against (src/js/shared/transport.d.ts): the browser's (fetch, XHR) and the mini
// program's (wx.request, wx.uploadFile, wx.downloadFile).
import type { Transport } from '../../src/js/shared/transport.js';
import * as browser from '../../src/js/browser/transport.js';
import * as miniprogram from '../../src/js/miniprogram/transport.js';

export const transports: Transport[] = [browser, miniprogram];
