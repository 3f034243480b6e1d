"""leaked-bytes and what is made once (argv[1] is the interpreter for the Python half):
a C program's pthread_once set-up is left out by a default suppression while its leak per
request is counted; with `--from SNAPSHOT` a Python program's C blocks count only when
they were allocated after that snapshot, so its one-time set-up before the warm-up does not
fail the check and its leak in every round still does."""
import sys
from check_util import *

PY = sys.argv[1]


def native(work):
    src = os.path.join(SOURCE, "tests", "programs", "once_init.c")
    leak = line_of(src, "/* LEAK */")
    _, result, _ = run_check(work, [program("once_init")], "once", status=1)
    r = rule(result, "leaked-bytes")
    check_eq(r["counted"], 50 * 100, "bytes leaked: the replies, not the table")
    check_eq([f["key"] for f in r["findings"]], [f"site:once_init.c:{leak} handle_request"],
             "the one finding")
    check(r["suppressed"] >= 64 * 1024, f"the table suppressed: {r['suppressed']}")
    on = [s for s in result["suppressions"] if s["text"] == "stack:__pthread_once_slow"]
    check(on and on[0]["hits"] == 64 * 1024, f"pthread_once's suppression took the table: {on}")


def python(work):
    src = os.path.join(PYPROGRAMS, "native_warmup.py")
    leak = line_of(src, "# LEAK")
    trace, result, _ = run_check(work, [PY, src], "warmup", status=1)
    r = rule(result, "leaked-bytes")
    check_eq(r["counted"], 4096 + 5 * 10 * 1000, "without --from: the set-up and every round")
    res, _ = check_json(trace, "--from", "warm-up", status=1)
    r = rule(res, "leaked-bytes")
    check_eq(r["counted"], 4 * 10 * 1000, "with --from warm-up: the four rounds after it")
    check_eq([(f["site"]["line"], f["count"]) for f in r["findings"]], [(leak, 40)],
             "blocks at the leaking line")
    check("after the --from snapshot" in r["measure"], r["measure"])
    res, _ = check_json(trace, "--from", "round 4", status=0)
    check_eq(rule(res, "leaked-bytes")["counted"], 0, "nothing allocated after the last round")


def test(work):
    native(work)
    python(work)


main(test)
