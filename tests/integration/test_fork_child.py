"""A program whose fork child leaks: the child writes its own trace, which shows the leak;
the parent's trace does not."""
from harness import *

SRC = os.path.join(SOURCE, "tests", "programs", "fork_child_leak.c")


def test(work):
    trace, p = traced(work, [program("fork_child_leak")])
    check(b"parent: child exited with 0" in p.stdout, "program output")
    files = traces_in(work)
    check_eq(len(files), 2, f"trace files ({files})")
    child = [f for f in files if f != trace][0]
    rc, rp = report(child), report(trace)
    check(rc["program"]["forked_child"], "child trace is marked as a fork child")
    check_eq(rc["program"]["ppid"], rp["program"]["pid"], "child's parent pid")
    check_eq(rc["trace"]["status"], "complete", "child trace status")
    leak = find_stacks(rc["leaked"], function="child_leak", line=line_of(SRC, "CHILD LEAK"))
    check(len(leak) == 1, f"child trace has the child_leak stack: {[stack_key(s) for s in rc['leaked']['by_stack']]}")
    check_eq((leak[0]["blocks"], leak[0]["bytes"]), (7, 7 * 777), "child leak blocks, bytes")
    check(not find_stacks(rp["leaked"], function="child_leak"), "the parent does not show the child's leak")
    check_eq(rp["trace"]["status"], "complete", "parent trace status")


main(test)
