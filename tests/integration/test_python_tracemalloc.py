"""tracemalloc and refscope in one process (argv[1] is the interpreter): tracemalloc
started at start-up (-X tracemalloc, PYTHONTRACEMALLOC) wraps refscope's allocator hooks,
and started and stopped by the program; the program behaves as without refscope, every
run, and the trace is complete. Both orders once crashed the interpreter."""
import sys
from harness import *

PY = sys.argv[1]
CODE = ("import tracemalloc, json\n"
        "data = [json.dumps({'k': i}) for i in range(2000)]\n"
        "print(tracemalloc.is_tracing(), tracemalloc.get_traceback_limit())\n"
        "tracemalloc.start(5); x = [bytearray(64) for _ in range(100)]\n"
        "snap = tracemalloc.take_snapshot(); tracemalloc.stop()\n"
        "print(len(data), len(x), tracemalloc.is_tracing())\n")


def test(work):
    cases = [([PY, "-X", "tracemalloc=15", "-c", CODE], {}),
             ([PY, "-c", CODE], {"PYTHONTRACEMALLOC": "3"}),
             ([PY, "-c", CODE], {})]
    for i, (cmd, extra) in enumerate(cases):
        env = dict(os.environ, **extra)
        plain = run(cmd, env=env)
        check_eq(plain.returncode, 0, f"case {i} without refscope")
        for r in range(3):
            trace, p = traced(work, cmd, name=f"c{i}r{r}.rsc", env=env)
            check_eq((p.stdout, p.stderr), (plain.stdout, plain.stderr), f"case {i} run {r}: output")
            check_eq(report(trace)["trace"]["status"], "complete", f"case {i} run {r}: trace status")


main(test)
