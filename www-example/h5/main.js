// The H5 page: pick or shoot a photo, upload it with progress (cancellable), compressed
// first when asked (wx-cloud-storage/image), ask the backend to make it gray
// (POST /api/demo/grayscale), show the result by temporary URL; and the shop's products
// (the shared products/ folder the Vue console manages), listed by the backend.
import { thumbnail } from 'wx-cloud-storage/image';
import { authHeaders, baseName, describe, formatBytes, getStorage, saveBlob } from '../shared/storage.js';

const $ = (id) => document.getElementById(id);
const ui = {
  file: $('file'), picked: $('picked'), preview: $('preview'), upload: $('upload'), cancel: $('cancel'),
  progress: $('progress'), bar: $('bar'), status: $('status'), error: $('error'), result: $('result'),
  gray: $('gray'), originalId: $('original-id'), grayId: $('gray-id'), compress: $('compress'), sizes: $('sizes'),
  download: $('download'), remove: $('delete'),
};
let controller = null;
let stored = null; // { originalId, grayId }

function setProgress(percent) {
  ui.progress.setAttribute('aria-valuenow', String(percent));
  ui.bar.style.width = `${percent}%`;
}

function showError(error) {
  ui.error.hidden = !error;
  ui.error.textContent = error ? describe(error) : '';
}

function busy(on) {
  ui.upload.disabled = on || !ui.file.files.length;
  ui.cancel.disabled = !on;
  ui.file.disabled = on;
}

ui.file.addEventListener('change', async () => {
  const file = ui.file.files[0];
  showError(null);
  setProgress(0);
  ui.status.textContent = '';
  ui.sizes.textContent = '';
  ui.picked.textContent = file ? file.name : '拍照或从相册选择';
  ui.preview.hidden = true;
  busy(false);
  if (!file) return;
  // A small preview made off the main thread: a 12-megapixel photo never freezes the page.
  try {
    if (ui.preview.src) URL.revokeObjectURL(ui.preview.src);
    ui.preview.src = (await thumbnail(file, { maxWidth: 640, maxHeight: 640 })).url;
    ui.preview.hidden = false;
  } catch {
    // Not decodable here (HEIC in Chrome, say): no preview; the upload still works.
  }
});

/** "3.8 MiB → 240.1 KiB (1600 × 1200)", or why the photo went up as it was. */
function sizesLine(image) {
  if (!image) return '';
  const was = `${formatBytes(image.original.size)}${image.original.width ? ` (${image.original.width} × ${image.original.height})` : ''}`;
  if (!image.changed) return `未压缩：${was}（${image.reason === 'not-smaller' ? '压缩后不会更小' : '无法压缩此文件'}）`;
  return `压缩：${was} → ${formatBytes(image.size)} (${image.width} × ${image.height})`;
}

ui.upload.addEventListener('click', async () => {
  const file = ui.file.files[0];
  controller = new AbortController();
  showError(null);
  busy(true);
  try {
    const storage = await getStorage();
    ui.status.textContent = '上传中…';
    const { fileId, image } = await storage.upload(file, `h5/${Date.now()}-${file.name}`, {
      image: ui.compress.checked && { maxWidth: 1600, maxHeight: 1600, quality: 0.82 },
      signal: controller.signal,
      onProgress: ({ loaded, total, phase }) => {
        setProgress(total ? Math.round((loaded / total) * 100) : 100);
        if (phase === 'waiting') ui.status.textContent = '已发送，等待存储确认…';
      },
    });
    ui.sizes.textContent = sizesLine(image);
    ui.status.textContent = '服务端处理中…';
    const response = await fetch('/api/demo/grayscale', {
      method: 'POST',
      headers: { ...authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ file_id: fileId }),
      signal: controller.signal,
    });
    const answer = await response.json();
    if (!response.ok) throw Object.assign(new Error(answer.message), { code: answer.code });
    const [link] = await storage.getTempFileUrls([answer.file_id], { maxAge: 600 });
    if (!link.ok) throw link.error;
    stored = { originalId: fileId, grayId: answer.file_id };
    ui.gray.src = link.url;
    ui.originalId.textContent = fileId;
    ui.grayId.textContent = answer.file_id;
    ui.result.hidden = false;
    ui.status.textContent = '完成 ✓';
  } catch (error) {
    ui.status.textContent = error.name === 'AbortError' ? '已取消' : '';
    setProgress(0);
    showError(error.name === 'AbortError' ? null : error);
  } finally {
    controller = null;
    busy(false);
  }
});

ui.cancel.addEventListener('click', () => controller?.abort());

ui.download.addEventListener('click', async () => {
  try {
    const storage = await getStorage();
    saveBlob(await storage.download(stored.grayId), baseName(stored.grayId));
  } catch (error) {
    showError(error);
  }
});

ui.remove.addEventListener('click', async () => {
  try {
    const storage = await getStorage();
    const results = await storage.delete([stored.originalId, stored.grayId]);
    const failed = results.find((r) => !r.ok);
    if (failed) throw failed.error;
    stored = null;
    ui.result.hidden = true;
    ui.status.textContent = '已删除';
  } catch (error) {
    showError(error);
  }
});

/** The newest product images: listed by the backend, shown by temporary URL. */
async function showProducts() {
  try {
    const storage = await getStorage();
    const { files } = await storage.list({ prefix: 'products/', order: 'newest', limit: 12 });
    const links = files.length ? await storage.getTempFileUrls(files.map((f) => f.fileId), { maxAge: 600 }) : [];
    const list = $('product-list');
    list.replaceChildren(...files.map((file, i) => {
      const item = document.createElement('li');
      if (links[i].ok && file.contentType?.startsWith('image/')) {
        item.append(Object.assign(document.createElement('img'), { src: links[i].url, alt: file.name }));
      }
      item.append(Object.assign(document.createElement('span'), { textContent: file.name }));
      return item;
    }));
    $('no-products').hidden = files.length > 0;
  } catch (error) {
    showError(error);
  }
}
showProducts();
