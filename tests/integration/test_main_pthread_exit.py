"""Every program thread ends with pthread_exit (main first): the process ends when the
last one does, with status 0, and the trace is complete with the worker's leak in it."""
import time
from harness import *

SRC = os.path.join(SOURCE, "tests", "programs", "main_pthread_exit.c")


def test(work):
    start = time.monotonic()
    trace, p = traced(work, [program("main_pthread_exit")], status=0, timeout=20)
    check(time.monotonic() - start < 5, "the process ended promptly")
    check_eq(p.stdout, b"worker done\n", "program output")
    r = report(trace)
    check_eq(r["trace"]["status"], "complete", "trace status")
    leak = find_stacks(r["leaked"], function="worker", line=line_of(SRC, "WORKER LEAK"))
    check_eq(sum(s["blocks"] for s in leak), 1, "the worker's block is reported")


main(test)
