// Decimal text of a u64 given as two 32-bit halves, as COS writes CRC-64s. Used by the
// integrity and resumable modules.

/** The u64 `hi` × 2³² + `lo` in decimal, without BigInt (older iOS WeChat lacks it). */
export function decimal(hi, lo) {
  let out = '';
  do {
    // One long-division step by 10: the remainder of `hi` carries into `lo` (< 10 × 2³², exact).
    const carried = (hi % 10) * 4294967296 + lo;
    hi = Math.floor(hi / 10);
    lo = Math.floor(carried / 10);
    out = (carried % 10) + out;
  } while (hi || lo);
  return out;
}
