export default { navigationBarTitleText: '照片上传 · Taro' };
