"""Three threads each leak one block from every one of 262,144 distinct call paths, all
three meeting each new path at about the same time: the report must show exactly 262,144
leaking stacks of exactly three blocks each. That is more stacks than the shim's small and
middle stack tables take before they close (8,192 and 131,072), so the three tables and the
moves from one to the next are all exercised. A stack interned twice (two threads racing
on a new stack) shows up as more stacks with fewer blocks; two paths taken for one stack
(a hashing mistake) as fewer stacks with more."""
from harness import *

LEVELS, THREADS = 18, 3
PATHS = 1 << LEVELS


def test(work):
    trace, p = traced(work, [program("many_stacks"), str(LEVELS)])
    check(f"{PATHS} paths, {THREADS} threads".encode() in p.stdout, "the program ran to the end")
    r = report(trace, "--top", "0", "--stack-depth", "2")
    check_eq(r["events"]["lost"], 0, "events lost")
    ours = [s for s in r["leaked"]["by_stack"] if stack_key(s)[0] == "leaf"]
    check_eq(len(ours), PATHS, "leaking stacks through leaf()")
    wrong = [(s["stack_id"], s["blocks"]) for s in ours if s["blocks"] != THREADS]
    check(not wrong, f"stacks without exactly {THREADS} blocks: {wrong[:5]}")
    check_eq(len({s["stack_id"] for s in ours}), PATHS, "distinct stack ids")


main(test)
