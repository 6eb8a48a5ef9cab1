// The one stall timer of every transport (browser fetch and XHR, the mini program's wx
// tasks): a request is cancelled when no byte has moved for `ms` (re-armed by each
// progress event), or, for an upload that cannot see its bytes leave, at a deadline
// (armed once); and at once when the caller's signal fires.
//
// Re-arming only notes the time, and all the requests in flight share one platform timer,
// armed for the earliest moment one of them could be due: a progress event costs no timer
// of its own, and a request starts none unless it is due before every other (a
// setTimeout/clearTimeout pair per request was a tenth of the library's own CPU per upload).

/** The requests in flight, each with `due()` (ms since the epoch) and `expire()`. */
const watched = new Set();
let timer;
let timerAt = Infinity;

// Arms the one timer for the earliest due request (if it is not armed early enough).
function arm() {
  let next = Infinity;
  for (const request of watched) next = Math.min(next, request.due());
  if (next >= timerAt) return;
  clearTimeout(timer);
  timerAt = next;
  timer = setTimeout(fire, Math.max(0, next - Date.now()));
}

// The timer: expires what is due, then waits for the next one.
function fire() {
  timer = undefined;
  timerAt = Infinity;
  const now = Date.now();
  for (const request of watched) if (request.due() <= now) request.expire();
  arm();
}

/**
 * Guards one request: `cancel()` stops it; `resolve(outcome)` settles its promise once.
 * Returns `rearm()` (a byte moved) and `settle(result)`, which resolves with `result`, or
 * with `{ aborted: true }` / `{ timeout: ms, deadline }` if the guard cancelled it, and
 * stops watching it.
 */
export function guard(signal, ms, deadline, cancel, resolve) {
  let last = Date.now();
  let settled;
  let outcome;
  const stop = (why) => {
    outcome = why;
    cancel();
    settle();
  };
  const onAbort = () => stop({ aborted: true });
  const request = { due: () => last + ms, expire: () => stop({ timeout: ms, deadline }) };
  const settle = (result) => {
    if (settled) return;
    settled = true;
    if (signal) signal.removeEventListener('abort', onAbort);
    watched.delete(request);
    // Nothing left to watch: no timer outlives the last request.
    if (!watched.size && timer) {
      clearTimeout(timer);
      timer = undefined;
      timerAt = Infinity;
    }
    resolve(outcome || result);
  };
  if (signal) signal.addEventListener('abort', onAbort);
  if (ms > 0) {
    watched.add(request);
    arm();
  }
  return { rearm: () => { last = Date.now(); }, settle };
}
