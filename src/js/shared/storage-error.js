// The error class every wx-cloud-storage failure is an instance of. It lives in JS so that
// errors are real `Error`s (stack, `instanceof Error`) and so the package can export the
// class for `instanceof StorageError` checks. Rust creates instances through wasm-bindgen.
export class StorageError extends Error {
  constructor(code, message) {
    super(message);
    // Aborts look like fetch's own aborts, so one `e.name === 'AbortError'` check covers both.
    this.name = code === 'ABORTED' ? 'AbortError' : 'StorageError';
    this.code = code;
  }
}
