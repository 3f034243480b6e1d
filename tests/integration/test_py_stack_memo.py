"""The Python stacks of a test build of the library (argv[2], built with RS_PY_MEMO_CHECK),
whose every stack found through the per-thread memos of frames is also walked frame by
frame: none may differ, at the default stack depth and at depths that cut the program's
recursion (tests/pyprograms/stack_memo.py; argv[1] is the interpreter). The memos skip
the walk for nearly every allocation, and a stack they confuse with another one would put
allocations on the wrong lines of every report."""
import re
import sys
from harness import *

PY, MEMOCHECK_LIB = sys.argv[1], sys.argv[2]
PROG = os.path.join(SOURCE, "tests", "pyprograms", "stack_memo.py")


def test(work):
    plain = run([PY, PROG], check_status=0)
    for depth in (None, 6, 8, 10, 12):
        env = dict(os.environ, REFSCOPE_LIBRARY=MEMOCHECK_LIB)
        if depth:
            env["REFSCOPE_STACK_DEPTH"] = str(depth)
        trace, p = traced(work, [PY, PROG], name=f"depth{depth}.rsc", env=env)
        check_eq(p.stdout, plain.stdout, f"program output at stack depth {depth}")
        m = re.search(rb"refscope memo check: (\d+) stacks checked, (\d+) differ", p.stderr)
        check(m is not None, f"no memo check counts (depth {depth}): {p.stderr[-500:]!r}")
        checked, differ = int(m.group(1)), int(m.group(2))
        check(checked > 5000, f"only {checked} stacks checked at stack depth {depth}")
        check_eq(differ, 0, f"stacks that differ from a walk of their frames at depth {depth}")
        text = report_text(trace)
        check("stack_memo.py" in text, f"the report names no line of the program: {text[:800]}")


main(test)
