// Checks of what a caller passes: each wrong option is an INVALID_ARGUMENT that names it
// and says what it must be, before any request. (Shape checks only: every rule about
// storage itself, keys included, is the wasm's.)
import { StorageError } from './storage-error.js';

/** The error for a bad argument or option (here, and in the optional modules' checks). */
export const invalid = (message) => new StorageError('INVALID_ARGUMENT', message);

// name → what a value must be: a typeof, a [min, max] whole-number range, a list of
// allowed strings, 'signal' (anything shaped like an AbortSignal: mini programs have no
// AbortSignal class) or 'container' (the mini program's Cloud Run service).
const RULES = {
  endpoint: 'string',
  headers: 'object|function',
  credentials: ['include', 'same-origin', 'omit'],
  container: 'container',
  retries: [0, 10],
  concurrency: [1, 16],
  timeoutMs: [0, 3600000],
  getUploadCredentials: 'function',
  integrity: 'object',
  images: 'object',
  resumable: 'object',
  image: 'object|boolean',
  onProgress: 'function',
  signal: 'signal',
  contentType: 'string',
  maxAge: [1, 31536000],
  prefix: 'string',
  cursor: 'string',
  limit: [1, 1000],
  order: ['name', 'newest'],
  contains: 'string',
};

function check(name, value) {
  const rule = RULES[name];
  if (rule === 'container') {
    if (typeof value === 'object' && typeof value.env === 'string' && typeof value.service === 'string') return;
    throw invalid('container must be { env, service }: the Cloud Run environment and service');
  }
  if (rule === 'signal') {
    if (typeof value === 'object' && typeof value.aborted === 'boolean' && typeof value.addEventListener === 'function') return;
    throw invalid('signal must be an AbortSignal');
  }
  if (typeof rule === 'string') {
    if (rule.split('|').includes(typeof value)) return;
    throw invalid(`${name} must be ${rule === 'string' ? 'a string' : rule === 'function' ? 'a function' : rule === 'object' ? 'an object' : rule === 'object|boolean' ? 'true or an object of image options' : 'an object or a function returning one'}`);
  }
  if (typeof rule[0] === 'number') {
    if (Number.isInteger(value) && value >= rule[0] && value <= rule[1]) return;
    throw invalid(`${name} must be a whole number from ${rule[0]} to ${rule[1]}`);
  }
  if (!rule.includes(value)) throw invalid(`${name} must be ${rule.slice(0, -1).join(', ')} or ${rule.at(-1)}, not ${JSON.stringify(value)}`);
}

/**
 * The options `what` (named in messages) were given, checked: the `names` present, with
 * `defaults` for the rest. `undefined` and `null` mean "not given".
 */
export function readOptions(options, what, names, defaults = {}) {
  if (options != null && typeof options !== 'object') throw invalid(`${what} must be an object`);
  const read = { ...defaults };
  for (const name of names) {
    const value = options == null ? undefined : options[name];
    if (value == null) continue;
    check(name, value);
    read[name] = value;
  }
  return read;
}

/** Header values for a backend call: an object of strings (or nothing). */
export function checkHeaders(headers) {
  if (headers == null) return {};
  if (typeof headers !== 'object') throw invalid('headers must give an object');
  if (!Object.values(headers).every((value) => typeof value === 'string')) throw invalid('header values must be strings');
  return headers;
}
