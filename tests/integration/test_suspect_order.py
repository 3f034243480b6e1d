"""The order of the report's leak suspects (argv[1] is the interpreter): by what their
growth retains. asyncio tasks kept in a set come first, before `set`, a type of which one
object holds all the tasks (it retains the most) while only a few of its many objects are
new; each site in asyncio names the program's line that called into it."""
import sys
from harness import *

PY = sys.argv[1]
PROG = os.path.join(SOURCE, "tests", "pyprograms", "tasks_kept.py")


def test(work):
    trace, _ = traced(work, [PY, PROG])
    suspects = report(trace)["leak_suspects"]
    order = [s["type"] for s in suspects]
    check(order and order[0] == "_asyncio.Task", f"the tasks first: {order}")
    if "builtins.set" in order:
        s = suspects[order.index("builtins.set")]
        check(s["retained"] > suspects[0]["retained"],
              f"set retains more than the tasks ({s['retained']} vs {suspects[0]['retained']}), "
              "yet comes after them")
    task = suspects[0] if order else {}
    site = task.get("site") or {}
    check(os.path.basename(site.get("file") or "").endswith(".py") and "asyncio" in (site.get("file") or ""),
          f"the tasks are made in asyncio: {site}")
    check_eq(site.get("called_from"), f"tasks_kept.py:{line_of(PROG, '# TASK')} main",
             "the program's line that made them")
    text = report_text(trace)
    check(f"called from tasks_kept.py:{line_of(PROG, '# TASK')} main" in text,
          f"the text names the caller:\n{text[-3000:]}")


main(test)
