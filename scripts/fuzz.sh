#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz, libFuzzer) for SECONDS each, starting from
# the committed seed corpus, and prints the executions and crashes of each.
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

summary=()
failed=0
for target in "${TARGETS[@]}"; do
  say "fuzzing $target for ${SECONDS_EACH}s"
  scratch="$ROOT/target/fuzz-corpus/$target"
  mkdir -p "$scratch"
  log="$(mktemp)"
  if RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -O "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -print_final_stats=1 >"$log" 2>&1; then
    runs="$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")"
    summary+=("$(printf '%-18s %10s executions, 0 crashes' "$target" "${runs:-?}")")
  else
    failed=1
    # The panic first (a long input's Debug print can push it out of the tail), then the tail.
    grep -m1 -A3 "panicked at" "$log" >&2 || true
    tail -40 "$log" >&2
    summary+=("$(printf '%-18s CRASHED: see fuzz/artifacts/%s/' "$target" "$target")")
  fi
  rm -f "$log"
done
say "fuzzing: ${SECONDS_EACH}s a target"
printf '%s\n' "${summary[@]}"
exit "$failed"
