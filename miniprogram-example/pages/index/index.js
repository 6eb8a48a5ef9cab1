// Choose a photo → (compress it, when the switch is on) → upload it with a progress bar and
// a cancel button → the backend makes it gray → show the result by temporary URL → save it
// to the album, or delete both files.
const { default: init, StorageClient, AbortController } = require('wx-cloud-storage');
const { images } = require('wx-cloud-storage/image');
const config = require('../../config.js');

let storage;
const ready = init().then(() => {
  storage = new StorageClient({ ...config.client, images: images() });
});

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
/** "812.0 KiB (3024 × 4032) → 201.3 KiB (1200 × 1600)", or why the photo went up as it was. */
function sizesLine(image) {
  if (!image) return '';
  const was = `${kib(image.original.size)}${image.original.width ? ` (${image.original.width} × ${image.original.height})` : ''}`;
  if (!image.changed) return `未压缩：${was}（${image.reason === 'not-smaller' ? '压缩后不会更小' : '无法压缩此文件'}）`;
  return `压缩：${was} → ${kib(image.size)} (${image.width} × ${image.height})`;
}
let controller = null;

Page({
  data: { phase: 'idle', progress: 0, error: '', original: null, result: null, compress: true, sizes: '' },

  toggleCompress({ detail }) {
    this.setData({ compress: detail.value });
  },

  choose() {
    wx.chooseMedia({
      count: 1,
      mediaType: ['image'],
      // The original when we compress it ourselves (to known bounds), else the platform's.
      sizeType: [this.data.compress ? 'original' : 'compressed'],
      success: ({ tempFiles }) => this.upload(tempFiles[0]),
    });
  },

  async upload(file) {
    await ready;
    controller = new AbortController();
    this.setData({ phase: 'uploading', progress: 0, error: '', original: null, result: null, sizes: '' });
    try {
      const extension = (file.tempFilePath.match(/\.\w+$/) || ['.jpg'])[0];
      const original = await storage.upload(file, `miniprogram/photo-${Date.now()}${extension}`, {
        image: this.data.compress && { maxWidth: 1600, maxHeight: 1600, quality: 0.82 },
        signal: controller.signal,
        onProgress: ({ loaded, total }) => this.setData({ progress: Math.round((100 * loaded) / total) }),
      });
      this.setData({ phase: 'processing', original, sizes: sizesLine(original.image) });
      const gray = await config.grayscale(original.fileId);
      const [link] = await storage.getTempFileUrls([gray.file_id]);
      if (!link.ok) throw link.error;
      this.setData({ phase: 'done', result: { fileId: gray.file_id, url: link.url } });
    } catch (e) {
      this.setData({ phase: e.name === 'AbortError' ? 'cancelled' : 'failed', error: e.code ? `${e.code}: ${e.message}` : e.message });
    } finally {
      controller = null;
    }
  },

  cancel() {
    if (controller) controller.abort();
  },

  async save() {
    try {
      const filePath = await storage.download(this.data.result.fileId);
      wx.saveImageToPhotosAlbum({ filePath, success: () => this.setData({ phase: 'saved' }) });
    } catch (e) {
      this.setData({ error: `${e.code}: ${e.message}` });
    }
  },

  async remove() {
    const ids = [this.data.original.fileId, this.data.result.fileId];
    const results = await storage.delete(ids);
    const failed = results.filter((r) => !r.ok);
    this.setData(failed.length
      ? { error: failed.map((r) => `${r.error.code}: ${r.error.message}`).join('\n') }
      : { phase: 'deleted', original: null, result: null });
  },
});
