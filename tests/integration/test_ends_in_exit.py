"""A program ending in _exit(3): exit status kept, trace complete, its leak reported."""
from harness import *

SRC = os.path.join(SOURCE, "tests", "programs", "ends_in_exit.c")


def test(work):
    trace, _ = traced(work, [program("ends_in_exit")], status=3)
    r = report(trace)
    check_eq(r["trace"]["status"], "complete", "trace status")
    check_eq(r["trace"]["end_reason"], "_exit", "end reason")
    leak = find_stacks(r["leaked"], function="main", line=line_of(SRC, "EXIT LEAK"))
    check(sum(s["blocks"] for s in leak) == 3 and sum(s["bytes"] for s in leak) == 900,
          f"3 blocks of 300 bytes at EXIT LEAK: {[(stack_key(s), s['blocks']) for s in r['leaked']['by_stack']]}")


main(test)
