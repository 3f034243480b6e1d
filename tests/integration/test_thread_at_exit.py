"""Threads still allocating while main returns: the process exits at once with main's
status, five times in a row; the trace is complete."""
import time
from harness import *


def test(work):
    for i in range(5):
        start = time.monotonic()
        trace, p = traced(work, [program("thread_at_exit")], name=f"t{i}.rsc", status=5, timeout=30)
        check(time.monotonic() - start < 10, "exit took too long")
        check(b"main returns" in p.stdout, "program output")
        r = report(trace)
        check_eq(r["trace"]["status"], "complete", f"run {i}: trace status")
        check(r["events"]["allocations"] > 1000, "the busy threads' allocations were recorded")


main(test)
