"""Edge labels of references that C types keep in their fields (argv[1] is the
interpreter): the report's chains name an exception's __traceback__, a traceback's tb_next
and tb_frame, and a functools.partial's args (a member of a C type), so that a leak of
errors kept with their tracebacks, or of queued partials, reads as it does in Python."""
import sys
from harness import *

PY = sys.argv[1]
PROG = os.path.join(SOURCE, "tests", "pyprograms", "errors_kept.py")


def edges(s):
    return [(st["type"], (st["edge"] or {}).get("text", (st["edge"] or {}).get("index")))
            for st in s["chain"]]


def test(work):
    trace, _ = traced(work, [PY, PROG])
    by_type = {s["type"]: s for s in report(trace)["leak_suspects"]}
    for t in ("__main__.RequestError", "builtins.traceback", "builtins.frame", "__main__.Request"):
        check(t in by_type and "grows_steadily" in by_type[t]["reasons"],
              f"{t} grows: {sorted(by_type)}")
    if "builtins.frame" in by_type:
        chain = edges(by_type["builtins.frame"])
        check_eq([chain[-4][0]] + chain[-3:],
                 ["__main__.RequestError", ("builtins.traceback", "__traceback__"),
                  ("builtins.traceback", "tb_next"), ("builtins.frame", "tb_frame")],
                 "the raising frame's chain ends error -> traceback -> next -> frame")
    if "__main__.Request" in by_type:
        chain = edges(by_type["__main__.Request"])
        check_eq([chain[-3][0]] + chain[-2:],
                 ["functools.partial", ("builtins.tuple", "args"), ("__main__.Request", 0)],
                 "a queued request's chain ends partial -> args -> the request")
    lists = by_type.get("builtins.list")
    check(lists and (lists["site"] or {}).get("line") == line_of(PROG, "# PAYLOAD"),
          f"the payload lists grow, allocated at their line: {lists and lists['site']}")
    if lists:
        check_eq(edges(lists)[-2:], [("builtins.frame", "tb_frame"), ("builtins.list", "payload")],
                 "a payload's chain ends in the frame's local")


main(test)
