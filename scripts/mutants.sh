#!/usr/bin/env bash
# Mutation testing of the driver's core: cargo-mutants changes the code one mutant at a time
# (a `>` made `>=`, a function body replaced by a default, ...) and runs the driver's own tests
# (`cargo test -p mqtt-modem --features _fixture --lib --tests`: the unit tests and tests/*.rs on
# the mocked UART; no doctests, no end-to-end suites). A mutant the tests do not notice is
# "missed": a test is missing, or the mutant changes nothing observable (an equivalent mutant,
# which docs/TESTING.md then explains).
#
# Usage: bash scripts/mutants.sh [file ...]        (default: every core file, listed below)
#   MUTANTS_SHARD=k/n   run the k-th of n shards of the mutants (to fit a session)
#   MUTANTS_JOBS=n      mutants built and tested in parallel (default 1; each needs a build)
#   MUTANTS_TIMEOUT=s   per-mutant test timeout in seconds (default 60, a few times the suite's
#                       own time: a mutant that loops is a "timeout", never a hang)
# The outcomes go to target/mutants/run/mutants.out; each file's row (caught, missed,
# unviable, timeout, score) replaces that file's row in docs/TESTING.md, "Mutation testing",
# and the missed and timed-out mutants are printed.
# Not a CI step: a full run takes hours on two cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "installing cargo-mutants" >&2
  cargo install cargo-mutants --locked
fi

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  files=(src/parse.rs src/encode.rs src/digest.rs src/supervisor.rs src/exchange/mod.rs
    src/exchange/slot.rs src/events.rs src/runner.rs src/client.rs
    src/dialect/uc8088/responses.rs src/dialect/esp_at/responses.rs
    src/dialect/quectel/responses.rs)
fi

# Property tests at 2000 cases each: enough to catch a mutant, fast enough to run per mutant.
export PROPTEST_CASES="${PROPTEST_CASES:-2000}"
shard_args=()
[ -n "${MUTANTS_SHARD:-}" ] && shard_args=(--shard "$MUTANTS_SHARD")

# `impl defmt::Format` is left out: it is compiled only with the `defmt` feature, so no test of
# this configuration can see a mutant there.
# One cargo-mutants run over all the files (one scratch build, not one per file); its outcomes
# are then counted per file.
out="target/mutants/run"
mkdir -p "$out"
file_args=()
for f in "${files[@]}"; do file_args+=(--file "$f"); done
# Exit status 2 means mutants were missed, 3 that some timed out: both are results.
cargo mutants -p mqtt-modem --features _fixture "${file_args[@]}" --output "$out" \
  --profile mutants --cargo-arg=--lib --cargo-arg=--tests \
  --exclude-re 'impl defmt::Format' \
  --timeout "${MUTANTS_TIMEOUT:-60}" --jobs "${MUTANTS_JOBS:-1}" --baseline skip \
  "${shard_args[@]}" >&2 || [ "$?" -le 3 ]
python3 - "$out/mutants.out" "$root/docs/TESTING.md" "${MUTANTS_SHARD:-all}" "${files[@]}" <<'PY'
import json, pathlib, sys
out, doc, shard, files = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], sys.argv[4:]
outcomes = json.loads((out / "outcomes.json").read_text())["outcomes"]
rows_new = {}
for file in files:
    count = {"CaughtMutant": 0, "MissedMutant": 0, "Unviable": 0, "Timeout": 0}
    missed = []
    for o in outcomes:
        mutant = o.get("scenario", {})
        if not isinstance(mutant, dict) or mutant.get("Mutant", {}).get("file") != file:
            continue
        count[o["summary"]] = count.get(o["summary"], 0) + 1
        if o["summary"] in ("MissedMutant", "Timeout"):
            missed.append(f'{o["summary"]}: {mutant["Mutant"]["name"]}')
    caught, miss = count["CaughtMutant"], count["MissedMutant"]
    unviable, timeout = count["Unviable"], count["Timeout"]
    viable = caught + miss + timeout
    score = f"{100 * caught / viable:.1f} %" if viable else "–"
    rows_new[file] = f"| `{file}` | {shard} | {caught} | {miss} | {unviable} | {timeout} | {score} |"
    print(rows_new[file])
    for m in missed:
        print("  ", m)
text = doc.read_text()
begin, end = "<!-- mutants:begin -->", "<!-- mutants:end -->"
head, rest = text.split(begin, 1)
table, tail = rest.split(end, 1)
rows = [r for r in table.strip().splitlines() if r.startswith("| `")]
rows = [r for r in rows if r.split("`")[1] not in rows_new] + list(rows_new.values())
header = ("| file | shard | caught | missed | unviable | timeout | score (caught of viable) |\n"
          "| --- | --- | --- | --- | --- | --- | --- |")
doc.write_text(head + begin + "\n" + header + "\n" + "\n".join(sorted(rows)) + "\n" + end + tail)
PY
