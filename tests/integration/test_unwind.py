"""Native stacks taken with the cached .eh_frame rules are libunwind's, frame for frame:
REFSCOPE_UNWIND=check takes every stack both ways and counts the differences. Programs
with alloca/VLA frames built with and without frame pointers, a signal handler that
allocates (handed to libunwind), libraries unloaded between allocations, and CPython's
eval loop (libc allocations of Python code, native frames of Python allocations)."""
import re
from harness import *

SRC = os.path.join(SOURCE, "tests", "programs", "unwind_shapes.c")
CHECK_LINE = re.compile(rb"unwind check: (\d+) stacks compared with libunwind, (\d+) differ; (\d+) taken by libunwind")

PY_WORK = r"""
import json, sqlite3, threading
docs = [json.dumps({"k": list(range(i % 40)), "s": "x" * (i % 90)}) for i in range(20000)]
def parse():
    for d in docs[:6000]:
        json.loads(d)
threads = [threading.Thread(target=parse) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
db = sqlite3.connect(":memory:")
db.execute("create table t(x, y)")
db.executemany("insert into t values (?, ?)", [(i, str(i) * 3) for i in range(20000)])
print(db.execute("select count(*) from t").fetchone()[0])
"""


def compared(p, what):
    lines = CHECK_LINE.findall(p.stderr)
    check(len(lines) == 1, f"{what}: one unwind check line expected on stderr: {p.stderr.decode()[-1500:]}")
    total, differ, fallback = (int(x) for x in lines[0])
    check_eq(differ, 0, f"{what}: stacks that differ from libunwind's")
    return total, fallback


def check_leak_stack(trace, what):
    r = report(trace)
    check_eq(r["trace"]["status"], "complete", f"{what}: trace status")
    found = find_stacks(r["leaked"], function="keep_one", file="unwind_shapes.c", line=line_of(SRC, "/* LEAK */"))
    check(len(found) == 1, f"{what}: one leaking stack at keep_one, found "
          f"{[stack_key(s) for s in r['leaked']['by_stack']]}")
    check_eq((found[0]["blocks"], found[0]["bytes"]), (64, 64000), f"{what}: leaked blocks, bytes")
    names = [f.get("function") for f in found[0]["frames"]]
    check("main" in names, f"{what}: the leak's stack reaches main: {names}")


def test(work):
    env_check = dict(os.environ, REFSCOPE_UNWIND="check")
    for name in ("unwind_shapes_fp", "unwind_shapes_opt"):
        trace, p = traced(work, [program(name)], name=f"{name}-check.rsc", env=env_check)
        total, fallback = compared(p, name)
        # a stack is compared unless libunwind took it (a signal frame, or another thread
        # was reading a rule at that moment)
        check(total + fallback >= 25000, f"{name}: {total} stacks compared and {fallback} taken by "
              "libunwind, expected every allocation's")
        check(fallback >= 20, f"{name}: the 20 allocations in a signal handler go to libunwind ({fallback})")
        print(f"{name}: {total} stacks identical to libunwind's, {fallback} taken by libunwind")
        check_leak_stack(trace, f"{name} (check)")
        # the default: rules alone, no comparison line
        trace, p = traced(work, [program(name)], name=f"{name}.rsc")
        check(not CHECK_LINE.search(p.stderr), f"{name}: no unwind check line by default")
        check_leak_stack(trace, name)

    env_py = dict(env_check, REFSCOPE_PYTHON_NATIVE="1")
    trace, p = traced(work, ["/usr/bin/python3.11", "-c", PY_WORK], name="python.rsc", env=env_py)
    check_eq(p.stdout.strip(), b"20000", "the Python program's output")
    total, _ = compared(p, "python3.11")
    check(total >= 100000, f"python3.11: {total} stacks compared")
    print(f"python3.11: {total} stacks identical to libunwind's")


main(test)
