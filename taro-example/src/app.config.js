export default {
  pages: ['pages/index/index'],
  window: { navigationBarTitleText: '照片上传 · Taro' },
};
