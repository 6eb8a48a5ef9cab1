// The in-browser half of the resumable bench (bench/resumable.mjs): one large file from
// disk, sent to the 开放接口服务 stack three ways while the emulator drops the connection
// that brings its half-way byte (the runner sets `drop_after_bytes`): wx-cloud-storage/resumable (by parts), wx-cloud-storage's one POST, and
// cos-js-sdk-v5's sliceUploadFile with its documented server-signing mode (the runner
// signs with the backend's temporary key: window.signCos). One part in flight for both
// part uploaders, so the emulator's per-request throttle is the uplink for all three.
import init, { StorageClient } from '/pkg/index.js';
import { resumable } from '/pkg/resumable.js';
import COS from '/peers/cos.js';

const params = new URLSearchParams(location.search);
const PARTS = params.get('parts');
const COS_ORIGIN = params.get('cos');
const BUCKET = params.get('bucket');
const AUTH = { Authorization: 'Bearer bench-token' };
const PART = 8 * 1024 * 1024;

await init();

/** Runs `send(file)`: how long it took. */
async function run(send) {
  const file = document.querySelector('#disk').files[0];
  const started = performance.now();
  await send(file);
  return { ms: performance.now() - started };
}

const variants = {
  // A new key each run, so nothing resumes from an earlier run.
  parts: (key) => run((file) => new StorageClient({ endpoint: PARTS, headers: AUTH, resumable: resumable({ concurrency: 1, store: false }) })
    .upload(file, key)),
  post: (key) => run((file) => new StorageClient({ endpoint: PARTS, headers: AUTH }).upload(file, key)),
  cos: (key) => run((file) => new Promise((resolve, reject) => {
    const cos = new COS({
      Domain: `${COS_ORIGIN}/{Bucket}`, Protocol: 'http:', ChunkParallelLimit: 1, ChunkSize: PART,
      getAuthorization: (options, callback) => window.signCos(options).then(callback, reject),
    });
    cos.sliceUploadFile({
      Bucket: BUCKET, Region: 'ap-shanghai', Key: `users/bench/${key}`, Body: file, ChunkSize: PART,
    }, (error, data) => (error ? reject(new Error(JSON.stringify(error))) : resolve(data)));
  })),
};

window.resumableBench = { run: (variant, key) => variants[variant](key) };
window.resumableReady = true;
