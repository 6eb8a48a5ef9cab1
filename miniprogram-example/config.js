// Where the example reaches its credential backend.
//
// With `wxcs dev` on this computer (./scripts/demo.sh): the developer tools must have
// 详情 → 本地设置 → 不校验合法域名 ticked, since 127.0.0.1 is no registered domain.
// Deployed on Cloud Run behind `wxcs serve --trust-wx-openid`, reach it with
// wx.cloud.callContainer instead (no 合法域名 needed), e.g.
//   client: { endpoint: '/api/storage', container: { env: 'prod-1a2b', service: 'wxcs' } }
const BASE = 'http://127.0.0.1:8787';
const HEADERS = { Authorization: 'Bearer demo-token' };

module.exports = {
  client: { endpoint: `${BASE}/api/storage`, headers: HEADERS },
  /** POST /api/demo/grayscale {"file_id"}: the backend's processing round trip. */
  grayscale(fileId) {
    return new Promise((resolve, reject) => {
      wx.request({
        url: `${BASE}/api/demo/grayscale`, method: 'POST', header: { ...HEADERS, 'content-type': 'application/json' },
        data: JSON.stringify({ file_id: fileId }),
        success: (res) => (res.statusCode === 200 ? resolve(res.data) : reject(new Error(`${res.statusCode}: ${JSON.stringify(res.data)}`))),
        fail: (e) => reject(new Error(e.errMsg)),
      });
    });
  },
};
