#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz, libFuzzer) for SECONDS each, as many at once as
# there are cores, from the committed seed corpus, and prints the executions and crashes of each.
#
#   scripts/fuzz.sh            # 15 s a target (scripts/test.sh runs 10 s)
#   scripts/fuzz.sh 600        # ten minutes a target
#   scripts/fuzz.sh 3600 cos_multipart   # one target, an hour
#
# New inputs go to target/fuzz-corpus/<target> (not the committed corpus); a crash is
# written to fuzz/artifacts/<target>/ and makes this script fail, with the command that
# replays it. libFuzzer's flags need nightly features: RUSTC_BOOTSTRAP=1 lets the pinned
# stable compiler take them, as the wasm build's -Z build-std does. No sanitizer: the
# crates under test have no unsafe code; the targets check behaviour, not memory.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
use_toolchain
SECONDS_EACH="${1:-15}"
shift || true
cd "$ROOT/fuzz"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo fuzz list)

say "building the fuzz targets"
RUSTC_BOOTSTRAP=1 cargo fuzz build -s none -O >/dev/null

# fuzz_one TARGET: fuzzes one target; its summary line goes to $results/TARGET (a crash's
# panic and log tail go to stderr).
results="$(mktemp -d)"
fuzz_one() {
  local target="$1" scratch="$ROOT/target/fuzz-corpus/$1" log
  mkdir -p "$scratch"
  log="$(mktemp)"
  if RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -O "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -print_final_stats=1 >"$log" 2>&1; then
    runs="$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")"
    printf '%-18s %10s executions, 0 crashes\n' "$target" "${runs:-?}" >"$results/$target"
  else
    # The panic first (a long input's Debug print can push it out of the tail), then the tail.
    { grep -m1 -A3 "panicked at" "$log" || true; tail -40 "$log"; } >&2
    printf '%-18s CRASHED: see fuzz/artifacts/%s/\n' "$target" "$target" >"$results/$target"
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

# One target a core at a time (libFuzzer runs on one thread). A target's outcome is its
# summary file: one that says CRASHED, or none (the run died), fails the script.
for target in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n || true; done
  say "fuzzing $target for ${SECONDS_EACH}s"
  fuzz_one "$target" &
done
wait || true
say "fuzzing: ${SECONDS_EACH}s a target"
failed=0
for target in "${TARGETS[@]}"; do
  if [ -f "$results/$target" ]; then cat "$results/$target"; else printf '%-18s no result: its run died\n' "$target"; failed=1; fi
  grep -q CRASHED "$results/$target" 2>/dev/null && failed=1
done
rm -rf "$results"
exit "$failed"
