"""Three threads each leak one block from every one of 65,536 distinct call paths, all
three meeting each new path at about the same time: the report must show exactly 65,536
leaking stacks of exactly three blocks each. A stack interned twice (two threads racing
on a new stack) shows up as more stacks with fewer blocks; two paths taken for one stack
(a hashing mistake) as fewer stacks with more."""
from harness import *

PATHS, THREADS = 1 << 16, 3


def test(work):
    trace, p = traced(work, [program("many_stacks")])
    check(b"65536 paths, 3 threads" in p.stdout, "the program ran to the end")
    r = report(trace, "--top", "0", "--stack-depth", "2")
    check_eq(r["events"]["lost"], 0, "events lost")
    ours = [s for s in r["leaked"]["by_stack"] if stack_key(s)[0] == "leaf"]
    check_eq(len(ours), PATHS, "leaking stacks through leaf()")
    wrong = [(s["stack_id"], s["blocks"]) for s in ours if s["blocks"] != THREADS]
    check(not wrong, f"stacks without exactly {THREADS} blocks: {wrong[:5]}")
    check_eq(len({s["stack_id"] for s in ours}), PATHS, "distinct stack ids")


main(test)
