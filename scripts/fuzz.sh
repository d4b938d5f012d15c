#!/usr/bin/env bash
# Fuzzes every target (or those named) for a number of executions each and records the figures.
#
#   bash scripts/fuzz.sh                      # all four targets, 10^7 executions each
#   RUNS=1000000 bash scripts/fuzz.sh urc     # one target, fewer executions
#
# Needs nightly and cargo-fuzz (installed here if missing). Builds in release with debug
# assertions (overflow checks on) and no sanitizer: the library has no `unsafe`, and without
# AddressSanitizer a run is several times faster. SANITIZER=address brings it back.
#
# Each run appends a row to fuzz/RESULTS.md (date, commit, target, executions, seconds,
# executions a second, corpus size, result). A crash stops the script; its input is copied to
# fuzz/regressions/<target>/ so that `cargo test --manifest-path fuzz/Cargo.toml` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-10000000}
SANITIZER=${SANITIZER:-none}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(digester urc responses encoders)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

results=fuzz/RESULTS.md
if [ ! -f "$results" ]; then
  cat >"$results" <<'EOF'
# Fuzzing results

Rows appended by `scripts/fuzz.sh`: one run of one target. `executions` is libFuzzer's
`stat::number_of_executed_units` (it counts the replay of the corpus the run started from).

| date (UTC) | commit | target | sanitizer | executions | seconds | exec/s | corpus | result |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
fi

mkdir -p fuzz/logs
for t in "${targets[@]}"; do
  # The code this target is built from (each target is built when its run starts).
  commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src fuzz/src || echo '+dirty')
  corpus=fuzz/corpus/$t
  mkdir -p "$corpus"
  log=fuzz/logs/$t.log
  echo "fuzzing $t for $RUNS executions (log: $log)"
  start=$SECONDS
  status=0
  cargo +nightly fuzz run --fuzz-dir fuzz --features libfuzzer -s "$SANITIZER" -a "$t" "$corpus" \
    fuzz/regressions/"$t" -- -runs="$RUNS" -print_final_stats=1 >"$log" 2>&1 || status=$?
  secs=$((SECONDS - start))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    result="no failure"
  else
    crash=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //')
    result="FAILED (exit $status${crash:+, input $crash})"
    if [ -n "$crash" ] && [ -f "$crash" ]; then
      cp "$crash" fuzz/regressions/"$t"/
    fi
  fi
  row="| $(date -u +%Y-%m-%d) | $commit | \`$t\` | $SANITIZER | ${execs:-?} | $secs | ${rate:-?} | $files | $result |"
  echo "$row" | tee -a "$results"
  if [ "$status" -ne 0 ]; then
    tail -40 "$log" >&2
    exit "$status"
  fi
done
