#!/usr/bin/env bash
# Instructions per operation under callgrind, driver against baseline. Repeatable: each figure
# is (Ir(N2 iterations) - Ir(N1 iterations)) / (N2 - N1), so start-up cost cancels out.
#   bash tools/perf/callgrind.sh   # publish, incoming (whole URC) and incoming in 16-byte reads;
#                                  # 64 and 1024-byte payloads, 16-byte topic
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }
cargo build --release -q -p mqtt-modem-perf --bin perf
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target_dir/release/perf"
n1=${N1:-2000}
n2=${N2:-12000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ir() { # op which payload iters
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" --cpu-only \
    --op "$1" --which "$2" --payload "$3" --iters "$4" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-17s %8s %14s %14s %7s\n' op payload driver_instr baseline_instr ratio
for op in publish incoming incoming-chunked; do
  for payload in 64 1024; do
    per=()
    for which in driver baseline; do
      a=$(ir "$op" "$which" "$payload" "$n1")
      b=$(ir "$op" "$which" "$payload" "$n2")
      per+=($(( (b - a) / (n2 - n1) )))
    done
    printf '%-17s %8s %14s %14s %7s\n' "$op" "$payload" "${per[0]}" "${per[1]}" \
      "$(awk -v d="${per[0]}" -v b="${per[1]}" 'BEGIN { printf "%.2f", d / b }')"
  done
done
