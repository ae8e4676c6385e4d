#!/usr/bin/env bash
# The whole test suite as two pytest processes at once: the real-model tests that need neither a
# database server nor a browser ("slow and not browser and not db"), and everything else. Most of
# the suite runs on one thread, so on a 2-core machine the second core would otherwise idle: the
# serial run took 34 minutes on this project's CI machine (2026-12-07), over its 30.
# The real-model group's output is printed after the rest; the exit status fails if either fails.
# Arguments go to both processes (e.g. -x, -k ...). Run it from the repository root.
set -uo pipefail
python=${PYTHON:-.venv/bin/python}
models="slow and not browser and not db"
log=$(mktemp "${TMPDIR:-/tmp}/cinerec-tests-models.XXXXXX")
trap 'rm -f "$log"' EXIT
# niced: the rest (the browser tests' servers, the job workers) must not wait for it; some tests
# lower their own thread's priority (a job worker runs at nice 10) and its children inherit it.
nice -n 19 "$python" -m pytest -p no:cacheprovider -m "$models" "$@" >"$log" 2>&1 &
models_pid=$!
"$python" -m pytest -m "not ($models)" "$@"
rest=$?
wait "$models_pid"
models_rc=$?
echo
echo "=== the real-model tests (-m \"$models\"), run beside the above ==="
cat "$log"
# pytest exits 5 when a group selects no test (e.g. -k that matches only the other group)
[ "$rest" -eq 5 ] && rest=0
[ "$models_rc" -eq 5 ] && models_rc=0
echo "exit: the rest $rest, the real-model tests $models_rc"
[ "$rest" -eq 0 ] && [ "$models_rc" -eq 0 ]
