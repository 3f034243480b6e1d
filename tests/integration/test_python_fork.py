"""A Python program with a multiprocessing Pool (fork), a thread and an os.fork child that
ends in os._exit: every process leaves a readable, complete trace; the child's leak is in
the child's trace; the thread is named."""
import sys
from harness import *

PY = sys.argv[1]
SRC = os.path.join(SOURCE, "tests", "pyprograms", "fork_pool.py")


def test(work):
    trace, p = traced(work, [PY, SRC])
    check(b"child status 4" in p.stdout, "program output")
    files = traces_in(work)
    check_eq(len(files), 5, f"traces: parent, 3 pool workers, the forked child ({files})")
    reports = {f: report(f, "--top", "0") for f in files}
    for f, r in reports.items():
        check_eq(r["trace"]["status"], "complete", f"{os.path.basename(f)}: status")
    parent = reports[trace]
    children = [r for f, r in reports.items() if f != trace]
    for r in children:
        check(r["program"]["forked_child"], "children are marked as fork children")
        check_eq(r["trace"]["end_reason"], "_exit", "children end in os._exit")
    check("spinner" in {t["name"] for t in parent["threads"]}, "the spinner thread is named")
    line = line_of(SRC, "# CHILD ALLOC")

    def bytes_at(r):
        return sum(l["bytes"] for l in r["leaked"]["by_line"]
                   if (l.get("file") or "").endswith("fork_pool.py") and l["line"] == line)
    with_child_leak = [r for r in children if bytes_at(r) >= 12345]
    check_eq(len(with_child_leak), 1, "exactly one child trace holds the CHILD ALLOC bytearray")
    check_eq(bytes_at(parent), 0, "the parent does not hold the child's allocation")
    pool_line = line_of(SRC, "# POOL ALLOC")
    workers_allocs = [sum(l["blocks"] for l in r["leaked"]["by_line"]
                          if (l.get("file") or "").endswith("fork_pool.py") and l["line"] == pool_line)
                      for r in children]
    check(sum(workers_allocs) >= 300, f"pool workers' allocations at POOL ALLOC ({workers_allocs})")


main(test)
