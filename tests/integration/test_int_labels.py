"""Int labels in snapshots (argv[1] is the interpreter): tests/pyprograms/int_labels.py
makes ints of one, two and three 30-bit digits, of either sign, up to and beyond 64 bits,
each on a line of its own; `refscope backrefs --site` on each line must end at an int
labelled with that int's value, as the program wrote it (an int beyond 64 bits has no
label)."""
import re
import sys
from harness import *

PY = sys.argv[1]
PROG = os.path.join(SOURCE, "tests", "pyprograms", "int_labels.py")


def test(work):
    trace, p = traced(work, [PY, PROG])
    marks = [(n + 1, m.group(1)) for n, text in enumerate(open(PROG).read().splitlines())
             if (m := re.search(r"# INT (-?\d+)$", text))]
    check(len(marks) == 7, f"markers found: {marks}")
    for line, value in marks:
        out = analyzer(["backrefs", trace, "--site", f"int_labels.py:{line}", "--snapshot", "ints",
                        "--json"]).stdout
        r = json.loads(out)
        chain = r.get("chain") or []
        check(chain, f"line {line}: no chain ({out[:300]!r})")
        last = chain[-1]
        label = value if -2 ** 63 <= int(value) < 2 ** 63 else ""
        check_eq((last.get("type"), last.get("label")), ("builtins.int", label), f"line {line}: the int's node")


main(test)
