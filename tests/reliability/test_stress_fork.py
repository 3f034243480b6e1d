"""Fork in a loop: 200 forks while two parent threads allocate and free; children allocate,
free an inherited block and end with exit() or _exit() (some after a thread of their own).
No deadlock (timeout), every child leaves a complete trace marked as a fork child, and every
trace (parent and children) verifies."""
import time
from rel import *

FORKS = 200


def test(work):
    start = time.monotonic()
    trace, p = traced(work, [program("stress_fork"), str(FORKS)], timeout=90)
    ran = time.monotonic() - start
    check(f"{FORKS} forks, 0 children ended badly".encode() in p.stdout, "every child ended with 0")
    files = traces_in(work)
    check_eq(len(files), FORKS + 1, "trace files (parent and every child)")
    events = 0
    reasons = {}
    for f in files:
        v = verify(f)
        events += v["events"]
        if f == trace:
            check(not v["fork_child"], "the parent is not a fork child")
            check_exact(v, "parent")
            continue
        check(v["fork_child"], f"{f}: marked as a fork child")
        check_exact(v, f)
        # the block inherited from the parent is freed in every child: a free the child's
        # trace never saw allocated, explained, not an error
        check(v["replay"]["frees_before_trace"] >= 1, f"{f}: the inherited block's free")
        check(v["replay"]["allocations"] >= 100, f"{f}: the child's allocations")
        reasons[v["end_reason"]] = reasons.get(v["end_reason"], 0) + 1
    check_eq(reasons.get("exit", 0), FORKS // 2, "children ended by exit()")
    check_eq(reasons.get("_exit", 0), FORKS // 2, "children ended by _exit()")
    print(f"stress_fork: {FORKS} forks in {ran:.1f} s; {len(files)} traces, {events} events verified")


main(test)
