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
#   MUTANTS_ITERATE=1   try again only what earlier runs did not catch (after new tests)
# The outcomes go to target/mutants/run; each file's row (caught, missed, unviable, timeout,
# score, for the code as it is now) replaces that file's row in docs/TESTING.md, "Mutation
# testing", and the mutants not caught are printed.
# Not a CI step: a full run (880 mutants) takes some 90 minutes with MUTANTS_JOBS=2 on two
# cores.
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
filters=(-p mqtt-modem --features _fixture --exclude-re 'impl defmt::Format')
for f in "${files[@]}"; do filters+=(--file "$f"); done
# One cargo-mutants run over all the files (one scratch build, not one per file). With
# MUTANTS_ITERATE=1 it skips the mutants an earlier run caught (cargo-mutants --iterate), so
# that after new tests only the others are tried again.
out="target/mutants/run"
mkdir -p "$out"
iterate=()
[ "${MUTANTS_ITERATE:-0}" = 1 ] && iterate=(--iterate)
# Exit status 2 means mutants were missed, 3 that some timed out: both are results.
cargo mutants "${filters[@]}" --output "$out" "${iterate[@]}" \
  --profile mutants --cargo-arg=--lib --cargo-arg=--tests \
  --timeout "${MUTANTS_TIMEOUT:-60}" --jobs "${MUTANTS_JOBS:-1}" --baseline skip \
  "${shard_args[@]}" >&2 || [ "$?" -le 3 ]
# Every outcome goes into a ledger (the latest outcome of each mutant, by name); each file's
# row counts the mutants of the code as it is now by their latest outcome.
cargo mutants "${filters[@]}" --list > "$out/current.txt"
python3 - "$out" "$root/docs/TESTING.md" "${MUTANTS_SHARD:-all}" "${files[@]}" <<'PY'
import json, pathlib, sys
out, doc, shard, files = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], sys.argv[4:]
ledger_path = out / "ledger.json"
ledger = json.loads(ledger_path.read_text()) if ledger_path.exists() else {}
# The run before this one (cargo-mutants keeps it as mutants.out.old), then this one.
for run in ("mutants.out.old", "mutants.out"):
    path = out / run / "outcomes.json"
    if not path.exists():
        continue
    for o in json.loads(path.read_text())["outcomes"]:
        mutant = o.get("scenario")
        if isinstance(mutant, dict) and "Mutant" in mutant:
            ledger[mutant["Mutant"]["name"]] = o["summary"]
ledger_path.write_text(json.dumps(ledger, indent=1, sort_keys=True))
current = [l for l in (out / "current.txt").read_text().splitlines() if l.strip()]
rows_new = {}
for file in files:
    count = {"CaughtMutant": 0, "MissedMutant": 0, "Unviable": 0, "Timeout": 0, "Untested": 0}
    left = []
    for name in current:
        if not name.startswith(file + ":"):
            continue
        outcome = ledger.get(name, "Untested")
        count[outcome] = count.get(outcome, 0) + 1
        if outcome not in ("CaughtMutant", "Unviable"):
            left.append(f"{outcome}: {name}")
    caught, miss = count["CaughtMutant"], count["MissedMutant"]
    unviable, timeout, untested = count["Unviable"], count["Timeout"], count["Untested"]
    viable = caught + miss + timeout
    score = f"{100 * caught / viable:.1f} %" if viable else "–"
    tried = "all" if untested == 0 else f"{len([n for n in current if n.startswith(file + ':')]) - untested} of {len([n for n in current if n.startswith(file + ':')])}"
    rows_new[file] = f"| `{file}` | {tried} | {caught} | {miss} | {unviable} | {timeout} | {score} |"
    print(rows_new[file])
    for m in left:
        print("  ", m)
text = doc.read_text()
begin, end = "<!-- mutants:begin -->", "<!-- mutants:end -->"
head, rest = text.split(begin, 1)
table, tail = rest.split(end, 1)
rows = [r for r in table.strip().splitlines() if r.startswith("| `")]
rows = [r for r in rows if r.split("`")[1] not in rows_new] + list(rows_new.values())
header = ("| file | mutants tried | caught | missed | unviable | timeout | score (caught of viable) |\n"
          "| --- | --- | --- | --- | --- | --- | --- |")
doc.write_text(head + begin + "\n" + header + "\n" + "\n".join(sorted(rows)) + "\n" + end + tail)
PY
