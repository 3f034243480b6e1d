"""Lines of Python frames (argv[1] is the interpreter): tests/pyprograms/many_lines.py makes
objects on many lines, in the shapes of code that line tables encode differently, and prints
the line each was made on as the interpreter itself gives it (the caller's f_lineno). Each of
those lines must be the line of a leaked stack's innermost frame, and the Tag-sized blocks
the site functions keep must lie on those lines alone: refscope finds a frame's line
offline, from the code object's line table (analyzer/py_line_table.c), and must find the
interpreter's."""
import json
import sys
from harness import *

PY = sys.argv[1]
PROG = os.path.join(SOURCE, "tests", "pyprograms", "many_lines.py")
# functions whose kept Tag-sized blocks are all Tags
SITE_FUNCTIONS = {"straight", "loops", "branches", "handlers", "spanning", "comprehensions",
                  "inner", "generated", "gap", "long_body", "<lambda>", "<listcomp>",
                  "<genexpr>", "<dictcomp>"}


def test(work):
    plain = run([PY, PROG])
    check_eq(plain.returncode, 0, "plain run")
    trace, p = traced(work, [PY, PROG])
    check_eq(p.stdout, plain.stdout, "program output")
    out = json.loads(p.stdout)
    expected, tag_bytes = set(out["lines"]), out["tag_bytes"]
    check(len(expected) > 150, f"the program made objects on {len(expected)} lines only")
    r = report(trace, "--top", "100000", "--stack-depth", "0")
    got, stray = set(), {}
    for s in r["leaked"]["by_stack"]:
        frames = s.get("frames") or []
        if not frames or os.path.basename(frames[0].get("file") or "") != os.path.basename(PROG):
            continue
        function, line = frames[0].get("function") or "", frames[0].get("line")
        got.add(line)
        only_tags = s["bytes"] == s["blocks"] * tag_bytes
        if function.split(".")[-1] in SITE_FUNCTIONS and only_tags and line not in expected:
            stray[(function, line)] = s["blocks"]
    missing = sorted(expected - got)
    check(not missing, f"lines the interpreter gave that no leaked stack has: {missing}")
    check(not stray, f"Tag-sized blocks kept by the site functions on lines that make no Tag: {stray}")


main(test)
