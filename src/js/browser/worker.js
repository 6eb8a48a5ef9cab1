// Work off the main thread for the optional browser modules (integrity hashing, the image
// step): a worker made from a blob: URL (no extra file for the app to serve), answered by
// message id, with the main thread as the fallback wherever the worker cannot help.

/**
 * `run(message)` resolves with `handle(message)`, computed in a worker where the page
 * allows one. `handle` is an async function that names only `helpers` (functions, inlined
 * into the worker by their source) and browser globals; `self` persists between calls, as
 * a cache. Where there are no workers, where the page's Content-Security-Policy refuses a
 * blob: worker, with `useWorker` false, or when the worker's `handle` throws (a worker
 * that lacks OffscreenCanvas, say), `onMain(message)` runs on the main thread instead.
 */
export function offMainThread(handle, helpers, onMain, useWorker) {
  let worker = useWorker ? undefined : null;
  const waiting = new Map();
  let next = 0;
  const start = () => {
    if (typeof Worker === 'undefined' || typeof URL.createObjectURL !== 'function') return null;
    const script = `${helpers.map((helper) => `const ${helper.name} = ${helper};`).join('\n')}
const handle = ${handle};
onmessage = async ({ data }) => {
  try {
    postMessage({ id: data.id, result: await handle(data) });
  } catch (error) {
    postMessage({ id: data.id, error: String(error) });
  }
};`;
    try {
      const url = URL.createObjectURL(new Blob([script], { type: 'text/javascript' }));
      const created = new Worker(url);
      URL.revokeObjectURL(url);
      created.onmessage = ({ data }) => {
        const pending = waiting.get(data.id);
        waiting.delete(data.id);
        if ('error' in data) pending.fallBack();
        else pending.done(data.result);
      };
      // A worker refused after creation (CSP): every task in flight moves to the main thread.
      created.onerror = (event) => {
        event.preventDefault();
        worker = null;
        for (const pending of waiting.values()) pending.fallBack();
        waiting.clear();
      };
      return created;
    } catch (_) {
      return null;
    }
  };
  return (message) => {
    if (worker === undefined) worker = start();
    if (!worker) return onMain(message);
    const id = next++;
    const sent = worker;
    return new Promise((done, fail) => {
      waiting.set(id, { done, fallBack: () => onMain(message).then(done, fail) });
      sent.postMessage({ ...message, id });
    });
  };
}
