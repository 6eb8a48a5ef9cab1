// Choose a photo → upload it with a progress bar and a cancel button → the backend makes it
// gray → show the result by temporary URL → save it to the album, or delete both files.
const { default: init, StorageClient, AbortController } = require('wx-cloud-storage');
const config = require('../../config.js');

let storage;
const ready = init().then(() => {
  storage = new StorageClient(config.client);
});
let controller = null;

Page({
  data: { phase: 'idle', progress: 0, error: '', original: null, result: null },

  choose() {
    wx.chooseMedia({
      count: 1,
      mediaType: ['image'],
      sizeType: ['compressed'],
      success: ({ tempFiles }) => this.upload(tempFiles[0]),
    });
  },

  async upload(file) {
    await ready;
    controller = new AbortController();
    this.setData({ phase: 'uploading', progress: 0, error: '', original: null, result: null });
    try {
      const extension = (file.tempFilePath.match(/\.\w+$/) || ['.jpg'])[0];
      const original = await storage.upload(file, `miniprogram/photo-${Date.now()}${extension}`, {
        signal: controller.signal,
        onProgress: ({ loaded, total }) => this.setData({ progress: Math.round((100 * loaded) / total) }),
      });
      this.setData({ phase: 'processing', original });
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
