// The client's CPU per upload: a figure that, unlike wall-clock throughput, does not move
// with the load on these 2-core machines, so it can guard a rewrite of the upload path.
// Read from the kernel's own accounting of every Chromium thread: the nanoseconds each has
// run (/proc/<pid>/task/<tid>/schedstat), summed per process type (browser, renderer with
// its workers, network service, …). The emulator and the backends are other processes and
// are not counted.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the thread or process ended while we looked
  }
};

/** Nanoseconds every thread of process `pid` has run so far. */
function processCpuNs(pid) {
  let total = 0;
  let threads = [];
  try { threads = readdirSync(`/proc/${pid}/task`); } catch { /* gone */ }
  for (const tid of threads) total += Number(read(`/proc/${pid}/task/${tid}/schedstat`).split(' ')[0]) || 0;
  return total;
}

/** The Chromium process type of `pid` (`renderer`, `gpu-process`, `network`, …; `browser` for the main one). */
function typeOf(pid) {
  const cmdline = read(`/proc/${pid}/cmdline`);
  const type = (/--type=([a-z-]+)/.exec(cmdline) || [])[1] || 'browser';
  if (type !== 'utility') return type;
  return /NetworkService/.test(cmdline) ? 'network' : 'utility';
}

/**
 * CPU (ms) spent so far by the Chromium processes started by this Node process, by type:
 * `{ all, renderer, browser, network, … }`.
 */
export function browserCpu() {
  const parent = new Map();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const stat = read(`/proc/${pid}/stat`);
    // After "pid (comm) ": state, ppid, …
    if (stat) parent.set(pid, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  const ours = new Set([String(process.pid)]);
  const spent = { all: 0 };
  // Parents usually have lower PIDs than their children, not always: repeat until stable.
  for (let added = true; added;) {
    added = false;
    for (const [pid, ppid] of parent) {
      if (ours.has(pid) || !ours.has(ppid)) continue;
      ours.add(pid);
      added = true;
      let exe = '';
      try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { /* gone */ }
      if (!/chrom/i.test(exe)) continue;
      const ms = processCpuNs(pid) / 1e6;
      const type = typeOf(pid);
      spent.all += ms;
      spent[type] = (spent[type] || 0) + ms;
    }
  }
  return spent;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * CPU per upload of each variant: `upload(variant)` uploads `count` files; runs interleave
 * the variants in a new order each round (`shuffled`). `{ variant: [{ all, renderer, … }
 * in ms per upload, one per run] }`.
 */
export async function cpuPerUpload({ variants, runs, count, upload, shuffled }) {
  const samples = Object.fromEntries(variants.map((variant) => [variant, []]));
  for (const variant of variants) await upload(variant); // warm-up
  for (let run = 0; run < runs; run++) {
    for (const variant of shuffled(variants)) {
      const before = browserCpu();
      await upload(variant);
      const after = browserCpu();
      samples[variant].push(Object.fromEntries(Object.keys(after).map((type) => [type, (after[type] - (before[type] || 0)) / count])));
    }
  }
  if (process.env.WXCS_BENCH_DEBUG) console.error(JSON.stringify(samples));
  return samples;
}

/**
 * The 95 % interval of median(ours) / median(peer) (arrays of figures), by resampling each
 * one's runs with `random`.
 */
export function ratioInterval(ours, peer, random) {
  const pick = (xs) => xs.map(() => xs[Math.floor(random() * xs.length)]);
  const ratios = Array.from({ length: 2000 }, () => median(pick(ours)) / median(pick(peer))).sort((a, b) => a - b);
  return [ratios[50], ratios[1949]];
}
