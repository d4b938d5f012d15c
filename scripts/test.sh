#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs what the tests need (the
# mosquitto broker and its clients, for the end-to-end suite), then `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mosquitto >/dev/null 2>&1 && ! [ -x /usr/sbin/mosquitto ] \
  || ! command -v mosquitto_pub >/dev/null 2>&1; then
  echo "installing mosquitto and mosquitto-clients (end-to-end tests need a real broker)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto mosquitto-clients openssl >/dev/null
fi

cargo test --workspace "$@"
# The seam's pull pattern, through its test fixture dialect.
cargo test -p mqtt-modem --features _fixture --test pull "$@"
# Secrets never reach the log: the same check with the `log` feature on.
cargo test -p mqtt-modem --features log --test secrets "$@"
