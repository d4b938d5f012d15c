#!/usr/bin/env bash
# The product firmware on emulated cores, end to end: for each board (QEMU's mps2-an386, a
# Cortex-M4F like the nRF52840; QEMU's RISC-V virt, running the ESP32-C3's riscv32imc code) and
# each dialect, builds examples/qemu-<board> for a local broker, then runs
# tools/cli/tests/qemu_e2e.rs: mosquitto, the simulated modem on a pty, QEMU on that pty, and
# checks from the broker's side (connect, subscriptions, telemetry, a command, 4 KiB out and
# 1 KiB in byte for byte, the publish rate paced at 115200 baud, a broker restart, a modem reboot, line noise, a silent modem) until
# the firmware's own verdict (its exit status); then, under `-icount`, the guest instructions
# per 64-byte publish and incoming message. A failure prints the firmware's log, the AT trace
# and what the broker saw.
#
# Usage: bash scripts/qemu-e2e.sh [dialect|all] [board|all]
#   dialect: uc8088, esp-at, quectel (default all); board: mps2-an386, virt (default all)
# Installs what it needs (QEMU, mosquitto, the Rust targets). Each run is bounded (10 min).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

dialects=(uc8088 esp-at quectel)
boards=(mps2-an386 virt)
[ "${1:-all}" != all ] && dialects=("$1")
[ "${2:-all}" != all ] && boards=("$2")

need=()
command -v qemu-system-arm >/dev/null 2>&1 || need+=(qemu-system-arm)
command -v qemu-system-riscv32 >/dev/null 2>&1 || need+=(qemu-system-misc)
{ command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
rustup target add thumbv7em-none-eabihf riscv32imc-unknown-none-elf >/dev/null

# Flash (vector table or trap entry, text, read-only data, initialised data) and static RAM
# (initialised and zeroed data) of an ELF, from llvm-size -A (rustup's llvm-tools if needed).
size_tool() {
  command -v llvm-size && return
  rustup component add llvm-tools >/dev/null 2>&1
  echo "$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-size"
}
SIZE="$(size_tool)"
measure() {
  "$SIZE" -A "$1" | awk '
    $1 ~ /^\.(vector_table|init|trap|text|rodata|data)$/ { flash += $2 }
    $1 == ".data" || $1 == ".bss" { ram += $2 }
    END { print flash + 0, ram + 0 }'
}

# QEMU at niceness -10 where that is allowed (root), as the host benchmark runs: the
# simulator's pacer spins a core, which would otherwise slow the emulated core down.
if nice -n -10 true 2>/dev/null; then export QEMU_NICE=-10; fi

port="${QEMU_BROKER_PORT:-28830}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
rows=()
failed=()
# The host side first (one build for every run).
cargo build -q -p mqtt-modem-cli --tests
for board in "${boards[@]}"; do
  case "$board" in
    mps2-an386) dir=qemu-mps2 target=thumbv7em-none-eabihf ;;
    virt) dir=qemu-virt target=riscv32imc-unknown-none-elf ;;
    *) echo "unknown board $board (mps2-an386, virt)" >&2; exit 2 ;;
  esac
  for dialect in "${dialects[@]}"; do
    case "$dialect" in
      uc8088) features=() ;;
      esp-at | quectel) features=(--features "$dialect") ;;
      *) echo "unknown dialect $dialect (uc8088, esp-at, quectel)" >&2; exit 2 ;;
    esac
    id="qemu-$board-$dialect"
    printf '\n=== %s, %s: build (%ss)\n' "$board" "$dialect" "$SECONDS"
    # The firmware's settings are compile-time (as on a product): the broker, its account, and
    # short periods so that the faults are seen within seconds.
    (cd "$root/examples/$dir" && MQTT_HOST=127.0.0.1 MQTT_PORT="$port" MQTT_CLIENT_ID="$id" \
      MQTT_USERNAME=bare-user MQTT_PASSWORD=Bare_pw-42.x MQTT_TELEMETRY_S=1 MQTT_POLL_S=2 \
      cargo build -q --release "${features[@]}")
    printf '=== %s, %s: run (%ss)\n' "$board" "$dialect" "$SECONDS"
    elf="$root/examples/$dir/target/$target/release/mqtt-modem-$dir"
    read -r flash ram < <(measure "$elf")
    if QEMU_FIRMWARE="$elf" QEMU_BOARD="$board" QEMU_DIALECT="$dialect" QEMU_BROKER_PORT="$port" \
      QEMU_CLIENT_ID="$id" timeout 600 \
      cargo test -q -p mqtt-modem-cli --test qemu_e2e -- --ignored --nocapture --test-threads 1 \
      2>&1 | tee "$log"; then
      high=$(sed -n 's/.*stack high water: \([0-9]*\) B.*/\1/p' "$log" | tail -1)
      ratio=$(sed -n 's/^rate at 115200 baud.*ratio \([0-9.]*\)$/\1/p' "$log" | tail -1)
      lowest=$(sed -n 's/^rate, lowest of 3: ratio \([0-9.]*\)$/\1/p' "$log" | tail -1)
      busy=$(sed -n 's/^rate at 115200 baud.*core busy \([0-9.]*\) %.*/\1/p' "$log" | tail -1)
      instr=$(sed -n 's/^instructions: \([0-9]*\) per 64-byte publish, \([0-9]*\) per .*/\1 | \2/p' "$log" | tail -1)
      rows+=("| $board | $dialect | $flash | $ram | $high | $instr | $ratio ($lowest) | $busy % |")
    else
      failed+=("$board/$dialect")
    fi
  done
done
printf '\n| board | dialect | flash (B) | static RAM (B) | stack high water (B) | instructions per 64 B publish | per 64 B incoming message | 64 B publishes at 115200 baud, ratio to the line-rate bound: median of 3 rounds (lowest) | core busy meanwhile |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n'
printf '%s\n' "${rows[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf '\n=== QEMU end to end FAILED for %s (%ss)\n' "${failed[*]}" "$SECONDS" >&2
  exit 1
fi
printf '\n=== QEMU end to end passed in %ss\n' "$SECONDS"
