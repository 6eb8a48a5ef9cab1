// UTF-8 for the wasm-bindgen glue in mini programs, whose runtime on phones has no
// TextEncoder / TextDecoder (the developer tools do, which hides the gap). The mini program
// build puts these in place of the globals, for the glue only (esbuild `inject`): nothing
// global is touched. Only what the glue uses: `encode(string)` and `decode(bytes)`, which
// accepts the `{ ignoreBOM, fatal }` options the glue passes (and, like the platform
// decoder with them, never strips a BOM; invalid bytes become U+FFFD).

export class TextEncoder {
  /** The UTF-8 bytes of `text` (lone surrogates become U+FFFD, as the platform's do). */
  encode(text = '') {
    const bytes = [];
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          i++;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) bytes.push(c);
      else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return new Uint8Array(bytes);
  }
}

export class TextDecoder {
  /** The text of UTF-8 `bytes` (a Uint8Array; nothing gives ''). */
  decode(bytes) {
    if (!bytes) return '';
    let out = '';
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
      let c = need === 0 ? b : need === 1 ? b & 31 : need === 2 ? b & 15 : b & 7;
      let ok = need >= 0 && i + need < bytes.length;
      for (let k = 1; ok && k <= need; k++) {
        const next = bytes[i + k];
        ok = (next & 0xc0) === 0x80;
        c = (c << 6) | (next & 63);
      }
      // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
      if (ok && ((need === 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (need === 3 && (c < 0x10000 || c > 0x10ffff)))) ok = false;
      if (!ok) {
        out += '\ufffd';
        i++;
        continue;
      }
      out += String.fromCodePoint(c);
      i += need + 1;
    }
    return out;
  }
}
