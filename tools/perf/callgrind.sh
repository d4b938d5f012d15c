#!/usr/bin/env bash
# Instructions per operation under callgrind, driver against baseline. Repeatable: each figure
# is (Ir(N2 iterations) - Ir(N1 iterations)) / (N2 - N1), so start-up cost cancels out.
#   bash tools/perf/callgrind.sh   # publish, incoming (whole URC) and incoming in 16-byte reads;
#                                  # 64 and 1024-byte payloads, 16-byte topic; every dialect
#   DIALECTS="esp-at" bash tools/perf/callgrind.sh   # some dialects only (uc8088 esp-at quectel)
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

ir() { # dialect op which payload iters
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" --cpu-only \
    --dialect "$1" --op "$2" --which "$3" --payload "$4" --iters "$5" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-8s %-17s %8s %14s %14s %7s\n' dialect op payload driver_instr baseline_instr ratio
for dialect in ${DIALECTS:-uc8088 esp-at quectel}; do
  for op in publish incoming incoming-chunked; do
    for payload in 64 1024; do
      per=()
      for which in driver baseline; do
        a=$(ir "$dialect" "$op" "$which" "$payload" "$n1")
        b=$(ir "$dialect" "$op" "$which" "$payload" "$n2")
        per+=($(( (b - a) / (n2 - n1) )))
      done
      printf '%-8s %-17s %8s %14s %14s %7s\n' "$dialect" "$op" "$payload" "${per[0]}" "${per[1]}" \
        "$(awk -v d="${per[0]}" -v b="${per[1]}" 'BEGIN { printf "%.2f", d / b }')"
    done
  done
done
