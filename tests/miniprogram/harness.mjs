// A WeChat mini program runtime in Node, honest about the platform (facts and sources:
// shared/design/miniprogram.md). Code runs in a `vm` context that holds only what the base
// library gives page code: `wx` (request, uploadFile, downloadFile, getFileSystemManager,
// cloud.callContainer), `WXWebAssembly`, timers, `console`, and a CommonJS `require` over
// the project's files and miniprogram_npm. None of the browser globals a phone lacks:
// no fetch, XMLHttpRequest, FormData, Blob, TextEncoder/TextDecoder, URL, AbortController,
// WebAssembly, window, document, location, process, Buffer.
//
// Behaviours emulated, each from the platform's documentation or its typings:
// - wx.request sends an ArrayBuffer `data` as its bytes (any method, PUT included);
// - wx.getStorageSync / setStorageSync / removeStorageSync keep strings for the app, across
//   a restart (a new runtime given the same `storage`);
// - every HTTP status goes to `success` ({ data, statusCode, header }); network failures and
//   abort() go to `fail({ errMsg })`, e.g. "uploadFile:fail abort";
// - at most 10 request / uploadFile / downloadFile tasks at once: past that, `fail` with
//   "…:fail exceed max task count" (so a library must queue its own);
// - a default and maximum timeout of 60 s;
// - wx.uploadFile writes every formData field (strings only) and then the file, last;
//   reports onProgressUpdate({ progress, totalBytesSent, totalBytesExpectedToSend }), and
//   gives every response header to onHeadersReceived({ header }) (success gives none);
// - FileSystemManager.readFile({ position, length }) reads a slice (base library 2.10.0);
//   getFileInfo({ digestAlgorithm: 'md5' | 'sha1' }) gives the platform's digest in hex;
// - wx.downloadFile saves to a temp file and reports onProgressUpdate;
// - wx.getImageInfo gives the stored width and height ("不考虑旋转") and the orientation;
//   wx.compressImage({ quality, compressedWidth, compressedHeight }) scales by the one side
//   given (the other follows the aspect) into a new temp file. This harness decodes and
//   encodes PNG only (8-bit RGB or RGBA, the fixtures' kind), nearest-neighbour: the
//   platform's codecs are not what is under test, the options reaching them are. Every call
//   is recorded in `stats.images`;
// - the 合法域名 lists, when switched on: a host not listed fails with "url not in domain list";
// - wx.cloud.callContainer reaches the Cloud Run service with no domain list, the gateway
//   setting X-WX-OPENID / X-WX-APPID / X-WX-ENV / X-WX-SOURCE (a client cannot set them);
// - `app()` starts a framework's output (uni-app, Taro) as the base library does: App, Page,
//   Component, getApp, getCurrentPages, the device queries their start-up code makes, and a
//   writable `global`; its pages mount with setData taking paths ('a.b[2].c');
// - WXWebAssembly.instantiate(path, imports) takes only a path inside the code package
//   (`.wasm`, or `.wasm.br` brotli), and, like iOS, refuses a module that exports a Global.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { basename, dirname, extname, join, normalize, resolve } from 'node:path';
import { types } from 'node:util';
import vm from 'node:vm';
import { brotliDecompressSync, deflateSync, inflateSync } from 'node:zlib';

const MAX_TASKS = 10;
/** The device the frameworks' start-up code asks about (wx.getSystemInfoSync and friends). */
const DEVICE = {
  brand: 'devtools', model: 'iPhone 13', platform: 'devtools', system: 'iOS 16.0', SDKVersion: '3.6.0', version: '8.0.50',
  language: 'zh_CN', pixelRatio: 3, windowWidth: 390, windowHeight: 844, screenWidth: 390, screenHeight: 844,
  statusBarHeight: 47, safeArea: { top: 47, left: 0, right: 390, bottom: 810, width: 390, height: 763 },
};
const DEFAULT_TIMEOUT = 60000;

/**
 * A runtime for the mini program at `root`. Options:
 * - `tmp`: where temp files live (wxfile://tmp/…);
 * - `domains`: the 合法域名 lists as host:port strings, or null (the developer tools'
 *   "do not check domains");
 * - `container`: { url, openid, appid, env } of the Cloud Run service callContainer reaches;
 * - `instantiateResult`: 'instance' (the typings) or 'pair' ({ instance, module }).
 */
export function createRuntime({ root, tmp, domains = null, container = null, instantiateResult = 'instance', choose = null, storage = new Map() }) {
  mkdirSync(tmp, { recursive: true });
  const stats = { maxTasks: 0, tasks: 0, refusedForCount: 0, uploads: [], images: [] };
  let tempFiles = 0;

  const localPath = (path) => {
    if (typeof path !== 'string') throw new Error('not a path');
    if (path.startsWith('wxfile://')) return join(tmp, basename(path.slice('wxfile://'.length)));
    return join(root, normalize(path.startsWith('/') ? path : `/${path}`));
  };
  const tempPath = (extension) => `wxfile://tmp_${++tempFiles}${extension}`;
  // An image API's work on the PNG at `src`, later, as the platform answers; `fail` if it is none.
  const withPng = (api, src, fail, work) => setTimeout(() => {
    let png;
    try {
      png = decodePng(readFileSync(localPath(src)));
    } catch (error) {
      return fail && fail({ errMsg: `${api}:fail ${error.message}` });
    }
    work(png);
  });

  // The domain list and the task limit, shared by the three network APIs.
  function begin(api, url, fail) {
    if (domains) {
      const host = new URL(url).host;
      if (!domains.includes(host)) {
        setTimeout(() => fail({ errMsg: `${api}:fail url not in domain list` }));
        return false;
      }
    }
    if (stats.tasks >= MAX_TASKS) {
      stats.refusedForCount++;
      setTimeout(() => fail({ errMsg: `${api}:fail exceed max task count` }));
      return false;
    }
    stats.tasks++;
    stats.maxTasks = Math.max(stats.maxTasks, stats.tasks);
    return true;
  }

  // One HTTP exchange for a task: `write(request)` sends the body; calls `done(status,
  // headers, body Buffer)` or `fail(errMsg)` once. Returns { abort }.
  function exchange(api, { url, method, headers, timeout }, write, onResponse) {
    let finished = false;
    const end = (fn) => {
      if (finished) return;
      finished = true;
      stats.tasks--;
      clearTimeout(timer);
      fn();
    };
    const request = http.request(url, { method, headers });
    const timer = setTimeout(() => {
      request.destroy();
      end(() => onResponse.fail(`${api}:fail timeout`));
    }, Math.min(timeout || DEFAULT_TIMEOUT, DEFAULT_TIMEOUT));
    request.on('error', () => end(() => onResponse.fail(`${api}:fail`)));
    request.on('response', (response) => {
      const chunks = [];
      response.on('data', (chunk) => {
        chunks.push(chunk);
        if (onResponse.data) onResponse.data(chunks.reduce((n, c) => n + c.length, 0), Number(response.headers['content-length']) || 0);
      });
      response.on('end', () => end(() => onResponse.done(response.statusCode, response.headers, Buffer.concat(chunks))));
      response.on('error', () => end(() => onResponse.fail(`${api}:fail`)));
    });
    write(request);
    return {
      abort() {
        request.destroy();
        end(() => onResponse.fail(`${api}:fail abort`));
      },
    };
  }

  const listeners = () => {
    const list = [];
    return { add: (fn) => list.push(fn), call: (event) => list.forEach((fn) => fn(event)) };
  };

  const wx = {
    request({ url, method = 'GET', header = {}, data, dataType = 'json', timeout, success, fail, complete }) {
      const failed = (error) => { fail && fail(error); complete && complete(error); };
      if (!begin('request', url, failed)) return { abort() {} };
      // An ArrayBuffer goes as its bytes (a PUT of a file's slice); other objects as JSON.
      const body = data === undefined ? '' : typeof data === 'string' ? data : types.isAnyArrayBuffer(data) ? Buffer.from(data) : JSON.stringify(data);
      return exchange('request', { url, method, headers: { ...header, 'content-length': Buffer.byteLength(body) }, timeout },
        (request) => request.end(body), {
          done(statusCode, headers, bytes) {
            let text = bytes.toString('utf8');
            if (dataType === 'json') try { text = JSON.parse(text); } catch (_) { /* stays a string */ }
            const res = { data: text, statusCode, header: headers };
            success && success(res);
            complete && complete(res);
          },
          fail: (errMsg) => failed({ errMsg }),
        });
    },

    uploadFile({ url, filePath, name, formData = {}, header = {}, timeout, success, fail, complete }) {
      const progress = listeners();
      const headersReceived = listeners();
      const failed = (error) => { fail && fail(error); complete && complete(error); };
      const task = { abort() {}, onProgressUpdate: progress.add, offProgressUpdate() {}, onHeadersReceived: headersReceived.add };
      if (!begin('uploadFile', url, failed)) return task;
      const nonString = Object.entries(formData).find(([, value]) => typeof value !== 'string');
      let file;
      try {
        file = localPath(filePath);
        statSync(file);
      } catch (_) {
        stats.tasks--;
        setTimeout(() => failed({ errMsg: `uploadFile:fail file not found: ${filePath}` }));
        return task;
      }
      if (nonString) {
        stats.tasks--;
        setTimeout(() => failed({ errMsg: `uploadFile:fail formData.${nonString[0]} must be a string` }));
        return task;
      }
      const boundary = `----wxboundary${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 16)}`;
      // formData first, in its order; the file part last.
      const head = Buffer.from(Object.entries(formData).map(([key, value]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`).join('') +
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${basename(file)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n');
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const total = head.length + statSync(file).size + tail.length;
      stats.uploads.push({ url, fields: Object.keys(formData), name });
      const exchangeTask = exchange('uploadFile', {
        url, method: 'POST', timeout,
        headers: { ...header, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': total },
      }, (request) => {
        let sent = 0;
        const report = (n) => {
          sent += n;
          progress.call({ progress: Math.floor((100 * sent) / total), totalBytesSent: sent, totalBytesExpectedToSend: total });
        };
        // A server may answer before the body is all sent (a refusal): sending stops there.
        // Writing on would hit a socket the finished request has let go of (EPIPE, with no
        // listener left to take it).
        let answered = false;
        const stop = () => { answered = true; stream.destroy(); };
        request.write(head);
        report(head.length);
        const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
        stream.on('data', (chunk) => {
          if (answered) return;
          if (!request.write(chunk)) {
            stream.pause();
            request.once('drain', () => stream.resume());
          }
          report(chunk.length);
        });
        stream.on('end', () => {
          if (answered) return;
          request.end(tail);
          report(tail.length);
        });
        request.on('response', stop);
        request.on('close', stop);
      }, {
        done(statusCode, headers, bytes) {
          // Every response header, as the runtime gives them (no CORS layer), before success.
          headersReceived.call({ header: headers });
          const res = { data: bytes.toString('utf8'), statusCode };
          success && success(res);
          complete && complete(res);
        },
        fail: (errMsg) => failed({ errMsg }),
      });
      task.abort = exchangeTask.abort;
      return task;
    },

    downloadFile({ url, header = {}, timeout, success, fail, complete }) {
      const progress = listeners();
      const failed = (error) => { fail && fail(error); complete && complete(error); };
      const task = { abort() {}, onProgressUpdate: progress.add, offProgressUpdate() {}, onHeadersReceived() {} };
      if (!begin('downloadFile', url, failed)) return task;
      const exchangeTask = exchange('downloadFile', { url, method: 'GET', headers: header, timeout }, (request) => request.end(), {
        data: (written, expected) => progress.call({
          progress: expected ? Math.floor((100 * written) / expected) : 0, totalBytesWritten: written, totalBytesExpectedToWrite: expected,
        }),
        done(statusCode, headers, bytes) {
          const tempFilePath = tempPath(extname(new URL(url).pathname) || '.bin');
          writeFileSync(localPath(tempFilePath), bytes);
          const res = { tempFilePath, statusCode };
          success && success(res);
          complete && complete(res);
        },
        fail: (errMsg) => failed({ errMsg }),
      });
      task.abort = exchangeTask.abort;
      return task;
    },

    getImageInfo({ src, success, fail }) {
      withPng('getImageInfo', src, fail, (png) => {
        stats.images.push({ api: 'getImageInfo', src });
        success && success({ width: png.width, height: png.height, path: src, orientation: 'up', type: 'png' });
      });
    },

    compressImage({ src, quality = 80, compressedWidth, compressedHeight, success, fail }) {
      withPng('compressImage', src, fail, (png) => {
        stats.images.push({ api: 'compressImage', src, quality, compressedWidth, compressedHeight });
        const width = compressedWidth || (compressedHeight ? Math.round((png.width * compressedHeight) / png.height) : png.width);
        const height = compressedHeight || (compressedWidth ? Math.round((png.height * compressedWidth) / png.width) : png.height);
        const tempFilePath = tempPath('.png');
        writeFileSync(localPath(tempFilePath), encodePng(resize(png, width, height)));
        success && success({ tempFilePath });
      });
    },

    getFileSystemManager() {
      return {
        statSync(path) {
          const stat = statSync(localPath(path));
          return { size: stat.size, isFile: () => stat.isFile(), isDirectory: () => stat.isDirectory() };
        },
        // readFile with `position` / `length` (base library 2.10.0): one slice of the file.
        readFile({ filePath, encoding, position = 0, length, success, fail }) {
          setTimeout(() => {
            let bytes;
            try {
              bytes = readFileSync(localPath(filePath));
            } catch (_) {
              return fail && fail({ errMsg: `readFile:fail no such file or directory, open ${filePath}` });
            }
            const slice = bytes.subarray(position, length === undefined ? undefined : position + length);
            const data = encoding ? slice.toString(encoding) : slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.length);
            success && success({ data });
          });
        },
        // getFileInfo with `digestAlgorithm` md5 or sha1: the platform's own digest, in hex.
        getFileInfo({ filePath, digestAlgorithm = 'md5', success, fail }) {
          setTimeout(() => {
            let bytes;
            try {
              bytes = readFileSync(localPath(filePath));
            } catch (_) {
              return fail && fail({ errMsg: `getFileInfo:fail file not exist` });
            }
            if (!['md5', 'sha1'].includes(digestAlgorithm)) return fail && fail({ errMsg: 'getFileInfo:fail invalid digestAlgorithm' });
            success && success({ size: bytes.length, digest: createHash(digestAlgorithm).update(bytes).digest('hex') });
          });
        },
        readFileSync(path, encoding) {
          const bytes = readFileSync(localPath(path));
          return encoding ? bytes.toString(encoding === 'utf-8' ? 'utf8' : encoding) : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
        },
        writeFileSync(path, data, encoding) {
          writeFileSync(localPath(path), typeof data === 'string' ? Buffer.from(data, encoding || 'utf8') : Buffer.from(data));
        },
        accessSync(path) {
          if (!existsSync(localPath(path))) throw new Error(`accessSync:fail no such file or directory ${path}`);
        },
      };
    },

    cloud: {
      init() {},
      callContainer({ config = {}, path, method = 'GET', header = {}, data, dataType = 'json', success, fail, complete }) {
        const run = new Promise((settle, reject) => {
          if (!container) return reject({ errMsg: 'cloud.callContainer:fail no Cloud Run service in this harness' });
          if (config.env !== container.env) return reject({ errMsg: `cloud.callContainer:fail env ${config.env} not found` });
          // The gateway: identity headers are its own; a client's copies are dropped.
          const forwarded = Object.fromEntries(Object.entries(header).filter(([key]) => !/^x-wx-(?!service$)/i.test(key)));
          Object.assign(forwarded, {
            'X-WX-OPENID': container.openid, 'X-WX-APPID': container.appid, 'X-WX-ENV': container.env, 'X-WX-SOURCE': 'wx_client',
          });
          // An ArrayBuffer goes as its bytes (a PUT of a file's slice); other objects as JSON.
      const body = data === undefined ? '' : typeof data === 'string' ? data : types.isAnyArrayBuffer(data) ? Buffer.from(data) : JSON.stringify(data);
          const request = http.request(`${container.url}${path}`, { method, headers: { ...forwarded, 'content-length': Buffer.byteLength(body) } });
          request.on('error', () => reject({ errMsg: 'cloud.callContainer:fail' }));
          request.on('response', (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('end', () => {
              let text = Buffer.concat(chunks).toString('utf8');
              if (dataType === 'json') try { text = JSON.parse(text); } catch (_) { /* stays a string */ }
              settle({ data: text, statusCode: response.statusCode, header: response.headers });
            });
          });
          request.end(body);
        });
        if (!success && !fail && !complete) return run;
        run.then((res) => { success && success(res); complete && complete(res); },
          (error) => { fail && fail(error); complete && complete(error); });
        return undefined;
      },
    },

    // Promise style when no callback is given, as the base library has it.
    chooseMedia(options = {}) {
      const result = { tempFiles: choose ? choose() : [], type: 'image' };
      if (!options.success) return Promise.resolve(result);
      setTimeout(() => options.success(result));
      return undefined;
    },
    // The older picker, which uni.chooseImage and Taro.chooseImage call: { path, size } files.
    chooseImage(options = {}) {
      const picked = (choose ? choose() : []).map((file) => ({ path: file.tempFilePath, size: file.size }));
      const result = { tempFilePaths: picked.map((file) => file.path), tempFiles: picked };
      if (!options.success) return Promise.resolve(result);
      setTimeout(() => options.success(result));
      return undefined;
    },
    // What frameworks' runtimes (uni-app, Taro) ask of the device at start.
    getSystemInfoSync: () => ({ ...DEVICE }),
    getWindowInfo: () => ({ pixelRatio: DEVICE.pixelRatio, windowWidth: DEVICE.windowWidth, windowHeight: DEVICE.windowHeight, screenWidth: DEVICE.screenWidth, screenHeight: DEVICE.screenHeight, statusBarHeight: DEVICE.statusBarHeight, safeArea: DEVICE.safeArea }),
    getDeviceInfo: () => ({ brand: DEVICE.brand, model: DEVICE.model, platform: DEVICE.platform, system: DEVICE.system }),
    getAppBaseInfo: () => ({ SDKVersion: DEVICE.SDKVersion, language: DEVICE.language, version: DEVICE.version, theme: 'light' }),
    getLaunchOptionsSync: () => ({ path: '', query: {}, scene: 1001, referrerInfo: {} }),
    getEnterOptionsSync: () => ({ path: '', query: {}, scene: 1001, referrerInfo: {} }),
    getAccountInfoSync: () => ({ miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } }),
    onAppShow() {},
    onAppHide() {},
    onError() {},
    onUnhandledRejection() {},
    onThemeChange() {},
    onPageNotFound() {},
    // The app's storage (strings here), kept across a restart when the same `storage` is given.
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => void storage.set(key, value),
    removeStorageSync: (key) => void storage.delete(key),
    setStorage(options = {}) {
      setTimeout(() => options.success && options.success({}));
    },
    nextTick: (callback) => setTimeout(callback),
    showToast() {},
    showModal(options) {
      setTimeout(() => options.success && options.success({ confirm: true, cancel: false }));
    },
    saveImageToPhotosAlbum(options) {
      setTimeout(() => options.success && options.success({ errMsg: 'saveImageToPhotosAlbum:ok' }));
    },
    setClipboardData(options) {
      setTimeout(() => options.success && options.success({}));
    },
  };

  const WXWebAssembly = {
    async instantiate(path, imports) {
      if (typeof path !== 'string' || !/\.wasm(\.br)?$/.test(path)) {
        throw new Error('WXWebAssembly.instantiate takes a path to a .wasm or .wasm.br file in the code package');
      }
      const file = localPath(path);
      if (!file.startsWith(root) || !existsSync(file)) throw new Error(`WXWebAssembly: no such file in the code package: ${path}`);
      const bytes = path.endsWith('.br') ? brotliDecompressSync(readFileSync(file)) : readFileSync(file);
      const module = new WebAssembly.Module(bytes);
      const globals = WebAssembly.Module.exports(module).filter((e) => e.kind === 'global');
      if (globals.length) throw new Error(`iOS refuses a module that exports Globals: ${globals.map((g) => g.name)}`);
      const instance = new WebAssembly.Instance(module, imports);
      return instantiateResult === 'pair' ? { instance, module } : instance;
    },
  };

  const context = vm.createContext({ wx, WXWebAssembly, setTimeout, clearTimeout, setInterval, clearInterval, console });
  // `global` is the app service's writable global object (frameworks' runtimes keep state on it).
  vm.runInContext('delete globalThis.WebAssembly; delete globalThis.SharedArrayBuffer; globalThis.global = globalThis;', context);

  // CommonJS, as the runtime has it: relative paths, and package names into miniprogram_npm.
  const cache = new Map();
  function load(file) {
    if (cache.has(file)) return cache.get(file).exports;
    const module = { exports: {} };
    cache.set(file, module);
    const wrapper = vm.runInContext(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, context, { filename: file });
    wrapper(module.exports, (name) => load(resolveModule(name, dirname(file))), module, file, dirname(file));
    return module.exports;
  }
  function resolveModule(name, from) {
    const base = name.startsWith('.') ? resolve(from, name) : name.startsWith('/') ? join(root, name) : join(root, 'miniprogram_npm', name);
    for (const candidate of [base, `${base}.js`, join(base, 'index.js')]) {
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
    const manifest = join(base, 'package.json');
    if (existsSync(manifest)) return join(base, JSON.parse(readFileSync(manifest, 'utf8')).main || 'index.js');
    throw new Error(`require: cannot find ${name} from ${from}`);
  }

  return {
    wx, stats, context,
    /** `require(name)` as page code at the project root would. */
    require: (name) => load(resolveModule(name, root)),
    /** Runs `file` (a page's script) with `Page`/`App`/`getApp` that record what it registers. */
    page(file) {
      let registered;
      context.Page = (options) => { registered = options; };
      context.getApp = () => ({ globalData: {} });
      load(join(root, file));
      return registered;
    },
    /**
     * Starts the app at the project root as the base library does: `app.js` with `App`,
     * `Page`, `Component`, `getApp` and `getCurrentPages`, then `onLaunch` and `onShow`.
     * `open(route)` loads a page and mounts it, whether it registers with `Page` (native,
     * Taro) or `Component` (uni-app): an instance with `data`, a `setData` that takes paths
     * ('a.b[2].c'), the page's methods, after created / attached / onLoad / onShow /
     * ready. Frameworks also set methods on the instance (their event handlers).
     */
    app() {
      const pages = [];
      let app;
      let registered;
      Object.assign(context, {
        App: (options) => { app = options; },
        Page: (options) => { registered = { kind: 'page', options }; },
        Component: (options) => { registered = { kind: 'component', options }; },
        getApp: () => app,
        getCurrentPages: () => pages.slice(),
      });
      load(join(root, 'app.js'));
      app?.onLaunch?.call(app, { path: '', query: {}, scene: 1001 });
      app?.onShow?.call(app, { path: '', query: {}, scene: 1001 });
      return {
        app,
        async open(route, query = {}) {
          registered = undefined;
          load(join(root, `${route}.js`));
          if (!registered) throw new Error(`${route}.js registered no Page or Component`);
          const { kind, options } = registered;
          const methods = kind === 'page' ? options : options.methods || {};
          const data = typeof options.data === 'function' ? options.data() : options.data || {};
          const instance = {
            route, is: route, options: query, data: JSON.parse(JSON.stringify(data)), properties: {},
            setData(patch, done) {
              // Serialized, as the platform sends it to the view layer.
              for (const [path, value] of Object.entries(patch)) setPath(this.data, path, value === undefined ? value : JSON.parse(JSON.stringify(value)));
              if (done) setTimeout(done);
            },
            selectComponent: () => null, selectAllComponents: () => [], triggerEvent() {},
            createSelectorQuery: () => ({ in() { return this; }, select() { return this; }, selectAll() { return this; }, boundingClientRect() { return this; }, exec() {} }),
            getPageId: () => `pageId:${pages.length}`, getOpenerEventChannel: () => ({ on() {}, emit() {} }),
          };
          for (const [name, value] of Object.entries(methods)) if (typeof value === 'function') instance[name] = value;
          pages.push(instance);
          const lifetimes = options.lifetimes || {};
          (lifetimes.created || options.created)?.call(instance);
          (lifetimes.attached || options.attached)?.call(instance);
          await instance.onLoad?.(query);
          instance.onShow?.();
          (options.pageLifetimes || {}).show?.call(instance);
          (lifetimes.ready || options.ready)?.call(instance);
          instance.onReady?.();
          return instance;
        },
      };
    },
    /** Copies a file into the temp folder, as wx.chooseMedia would: its temp path. */
    temp(bytes, extension) {
      const path = tempPath(extension);
      writeFileSync(localPath(path), bytes);
      return path;
    },
    /** The bytes of a local path (e.g. a download's temp file). */
    read: (path) => readFileSync(localPath(path)),
  };
}

// PNG for the image APIs: 8-bit RGB (2) or RGBA (6), non-interlaced, every filter type.
function decodePng(bytes) {
  if (bytes.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('not a PNG this harness decodes');
  let at = 8;
  let header;
  const data = [];
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.subarray(at + 4, at + 8).toString('latin1');
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8], colour: body[9], interlace: body[12] };
    if (type === 'IDAT') data.push(body);
    at += 12 + length;
  }
  if (!header || header.depth !== 8 || ![2, 6].includes(header.colour) || header.interlace) throw new Error('a PNG kind this harness does not decode');
  const channels = header.colour === 6 ? 4 : 3;
  const stride = header.width * channels;
  const raw = inflateSync(Buffer.concat(data));
  const pixels = Buffer.alloc(stride * header.height);
  for (let y = 0; y < header.height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x];
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y ? pixels[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter];
      pixels[y * stride + x] = (value + predicted) & 0xff;
    }
  }
  return { width: header.width, height: header.height, channels, pixels };
}

function resize({ width, height, channels, pixels }, toWidth, toHeight) {
  const out = Buffer.alloc(toWidth * toHeight * channels);
  for (let y = 0; y < toHeight; y++) {
    for (let x = 0; x < toWidth; x++) {
      const from = (Math.floor((y * height) / toHeight) * width + Math.floor((x * width) / toWidth)) * channels;
      pixels.copy(out, (y * toWidth + x) * channels, from, from + channels);
    }
  }
  return { width: toWidth, height: toHeight, channels, pixels: out };
}

function encodePng({ width, height, channels, pixels }) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const chunk = (type, body) => {
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.write(type, 4, 'latin1');
    body.copy(out, 8);
    let c = 0xffffffff;
    for (const byte of out.subarray(4, 8 + body.length)) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + body.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, channels === 4 ? 6 : 2, 0, 0, 0], 8);
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) pixels.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Width, height and pixels of a PNG this harness decodes (for tests). */
export const readPng = decodePng;
/** A PNG of `width` × `height` from `pixel(x, y)` → [r, g, b] (for tests' fixtures). */
export const writePng = (width, height, pixel) => {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels.set(pixel(x, y), (y * width + x) * 3);
  return encodePng({ width, height, channels: 3, pixels });
};

/** Sets `value` at a setData path ('a.b[2].c', or a plain key) in `data`. */
function setPath(data, path, value) {
  const keys = path.match(/[^.[\]]+/g);
  let at = data;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i];
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = /^\d+$/.test(keys[i + 1]) ? [] : {};
    at = at[key];
  }
  at[keys[keys.length - 1]] = value;
}
