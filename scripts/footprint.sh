#!/usr/bin/env bash
# Measures what the driver costs on each board: builds every example three ways and prints a
# markdown table of flash and static RAM from `llvm-size -A` (section sizes, never the
# Berkeley format, which misfiles ESP images):
#   bare-uart    the same HAL, executor and logger, echoing UART bytes (the baseline)
#   driver-only  the product's loop with its application logic (JSON, command parsing, LED)
#                compiled out: every driver call the product makes, supervisor included
#   full         the product firmware (supervisor, JSON telemetry, commands)
#   driver-only+esp-at, driver-only+quectel (nRF52840): the same with another module's dialect
# flash = vector table (.vector_table / .trap) + .text + .rodata + .data (+ .rwtext and
#         .flash.appdesc on the ESP32-C3, which the image also carries);
# static RAM = .data + .bss.
# The driver's Resources (ingress, response, events buffers) are sized by the application;
# their bytes are read from the RESOURCES symbol and reported apart.
# Usage: bash scripts/footprint.sh            (table on stdout, build logs on stderr)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

rustup target add riscv32imc-unknown-none-elf thumbv7em-none-eabihf >/dev/null

# llvm-size / llvm-nm: the system's, else rustup's llvm-tools component.
find_tool() {
  local t
  for t in "$1" "$1"-{21,20,19,18,17,16,15,14}; do
    if command -v "$t" >/dev/null 2>&1; then command -v "$t"; return; fi
  done
  rustup component add llvm-tools >/dev/null 2>&1 || rustup component add llvm-tools-preview >/dev/null
  local bin
  bin="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/$1"
  [ -x "$bin" ] || { echo "no $1 found" >&2; exit 1; }
  echo "$bin"
}
SIZE="$(find_tool llvm-size)"
NM="$(find_tool llvm-nm)"

# section sizes of an ELF -> "flash ram"
measure() {
  "$SIZE" -A "$1" | awk '
    $1 ~ /^\.(vector_table|trap|text|rodata|data|rwtext|flash\.appdesc)$/ { flash += $2 }
    $1 == ".data" || $1 == ".bss" { ram += $2 }
    END { print flash + 0, ram + 0 }'
}

# size of the Resources static (StaticCell<Resources<..>>) in an ELF
resources_size() {
  "$NM" -S -C --radix=d "$1" | awk '/RESOURCES/ && !found { print $2 + 0; found = 1 } END { if (!found) print 0 }'
}

const_of() { # NAME -> value of `pub const NAME: usize = N;` in the shared app
  sed -n "s/^pub const $1: usize = \([0-9_]*\);.*/\1/p" "$root/examples/common/app.rs" | tr -d _
}
INGRESS=$(const_of INGRESS); RESPONSE=$(const_of RESPONSE); EVENTS=$(const_of EVENTS)
MESSAGE_BUF=$(const_of MESSAGE_BUF)
BUFFERS=$((INGRESS + EVENTS + MESSAGE_BUF))

kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
signed() { if [ "$1" -ge 0 ]; then echo "+$1"; else echo "$1"; fi; }

declare -A FLASH RAM RES VARIANTS
for ex in esp32c3 nrf52840; do
  case $ex in
    esp32c3) target=riscv32imc-unknown-none-elf ;;
    nrf52840) target=thumbv7em-none-eabihf ;;
  esac
  elf="$root/examples/$ex/target/$target/release/mqtt-modem-$ex"
  variants="bare-uart driver-only full"
  # Each dialect's build of the same product on the nRF52840 (the UC8088 is the default).
  [ "$ex" = nrf52840 ] && variants="bare-uart driver-only driver-only+esp-at driver-only+quectel full"
  VARIANTS[$ex]=$variants
  for variant in $variants; do
    features=()
    [ "$variant" = full ] || features=(--features "${variant//+/,}")
    echo "=== building examples/$ex ($variant)" >&2
    (cd "$root/examples/$ex" && cargo build --release "${features[@]}" >&2)
    read -r f r < <(measure "$elf")
    FLASH[$ex,$variant]=$f
    RAM[$ex,$variant]=$r
    RES[$ex,$variant]=$(resources_size "$elf")
  done
done

echo "| board | build | flash (B) | static RAM (B) | flash vs bare-uart | RAM vs bare-uart |"
echo "|---|---|---:|---:|---:|---:|"
for ex in esp32c3 nrf52840; do
  for variant in ${VARIANTS[$ex]}; do
    f=${FLASH[$ex,$variant]} r=${RAM[$ex,$variant]}
    df=$((f - FLASH[$ex,bare-uart])) dr=$((r - RAM[$ex,bare-uart]))
    echo "| $ex | $variant | $f | $r | $(signed $df) ($(kib $df) KiB) | $(signed $dr) ($(kib $dr) KiB) |"
  done
done
echo
echo "Application-sized buffers inside the RAM figures: Resources<$INGRESS, $RESPONSE, $EVENTS> ="\
  "${RES[nrf52840,driver-only]} B on nRF52840 / ${RES[esp32c3,driver-only]} B on ESP32-C3"\
  "(ingress $INGRESS + events $EVENTS are incoming-message buffers; response $RESPONSE),"\
  "plus the $MESSAGE_BUF-byte buffer the main loop copies each event into."
echo
echo "| board | driver flash (driver-only − bare) | target | driver static RAM without the $BUFFERS B of message buffers | target |"
echo "|---|---:|---|---:|---|"
for ex in esp32c3 nrf52840; do
  df=$((FLASH[$ex,driver-only] - FLASH[$ex,bare-uart]))
  dr=$((RAM[$ex,driver-only] - RAM[$ex,bare-uart] - BUFFERS))
  if [ "$ex" = nrf52840 ]; then
    ft="≤ 20 KiB: $([ "$df" -le 20480 ] && echo met || echo MISSED)"
  else
    ft="(none stated)"
  fi
  rt="≤ 2 KiB: $([ "$dr" -le 2048 ] && echo met || echo MISSED)"
  echo "| $ex | $df B ($(kib $df) KiB) | $ft | $dr B ($(kib $dr) KiB) | $rt |"
done
