#!/usr/bin/env bash
# Builds both firmware examples in release (default features, then with `tls`, then the same
# application for the ESP-AT and Quectel dialects).
# Self-contained and idempotent: adds the two targets, then builds each example from its own
# directory, so that its own .cargo/config.toml (target, linker scripts) applies.
# Usage: bash scripts/build-examples.sh [extra cargo args, e.g. --locked]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

rustup target add riscv32imc-unknown-none-elf thumbv7em-none-eabihf >/dev/null

for ex in esp32c3 nrf52840; do
  dir="$root/examples/$ex"
  printf '\n=== examples/%s (%ss)\n' "$ex" "$SECONDS"
  (cd "$dir" && cargo build --release "$@")
  printf '=== examples/%s --features tls (%ss)\n' "$ex" "$SECONDS"
  (cd "$dir" && cargo build --release --features tls "$@")
  for dialect in esp-at quectel; do
    printf '=== examples/%s --features %s (%ss)\n' "$ex" "$dialect" "$SECONDS"
    (cd "$dir" && cargo build --release --features "$dialect" "$@")
  done
done
printf '\n=== examples built in %ss\n' "$SECONDS"
