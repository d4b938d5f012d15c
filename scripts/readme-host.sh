#!/usr/bin/env bash
# Does the README's host quickstart build as a new user would copy it? Makes a fresh crate
# outside the workspace from the README's `[dependencies]` block and Rust block of
# "Quickstart: a host program with tokio" (mqtt-modem pointed at this checkout), resolves its
# dependencies afresh, and builds and links it. A missing feature (a link error on
# `_embassy_time_now` or `_critical_section_1_0_acquire`) or a wrong name fails here.
# Usage: bash scripts/readme-host.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

python3 - "$root/README.md" "$dir" "$root" <<'EOF'
import re, sys, pathlib
readme, out, root = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
text = open(readme).read()
section = text.split("## Quickstart: a host program with tokio", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```([^\n]*)\n(.*?)```", section, re.S)
toml = next(body for lang, body in blocks if lang.strip() == "toml")
rust = next(body for lang, body in blocks if lang.strip().startswith("rust"))
deps = toml.replace('mqtt-modem = "0.1"', f'mqtt-modem = {{ path = "{root}" }}')
assert deps != toml, "the README's block has no `mqtt-modem = \"0.1\"` line"
(out / "src").mkdir()
(out / "Cargo.toml").write_text(
    '[package]\nname = "readme-host"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n'
    + deps + "\n[workspace]\n")
(out / "src" / "main.rs").write_text(rust)
EOF

echo "building the README's host quickstart in $dir"
# Warnings are errors: an unused import in the README is a mistake a user copies too.
CARGO_TARGET_DIR="$root/target/readme-host" RUSTFLAGS="-D warnings" cargo build --manifest-path "$dir/Cargo.toml"
echo "the README's host quickstart builds and links"
