"""Leaks made of what the garbage collector does not track, or of containers that fill up
with objects that already exist (argv[1] is the interpreter; growing_values.py): the report
names the growing types with their site and the chain from the module, and the check fails
on growth; a type that grows in size, not in number, is a suspect too, its chain leading to
the one container that grows, with the line that fills it."""
import sys
from harness import *

PY = sys.argv[1]
PROG = os.path.join(SOURCE, "tests", "pyprograms", "growing_values.py")


def suspects_of(r):
    return {s["type"]: s for s in r["leak_suspects"]}


def suspect(by_type, t, what):
    """The suspect of type t (None, counted as a failure, when there is none)."""
    check(t in by_type, f"{what}: {t} is a leak suspect: {sorted(by_type)}")
    return by_type.get(t)


def file_line(site):
    site = site or {}
    return os.path.basename(site.get("file") or ""), site.get("line")


def chain_of(s):
    return [(st["type"], (st["edge"] or {}).get("text")) for st in s["chain"]]


def test_values(work):
    trace, _ = traced(work, [PY, PROG, "values"], name="values.rsc")
    by_type = suspects_of(report(trace))
    line = line_of(PROG, "# LEAK VALUES")
    for t, holder, site_line in (("builtins.str", "seen_ids", line),
                                 ("builtins.float", "latency_ms", line + 1)):
        s = suspect(by_type, t, "values")
        if not s:
            continue
        check_eq(s["reasons"], ["grows_steadily"], f"values: {t}: reasons")
        check_eq(file_line(s["site"]), ("growing_values.py", site_line), f"values: {t}: site")
        chain = chain_of(s)
        check_eq(chain[:3], [("builtins.module", None), ("builtins.dict", "__dict__"),
                             (chain[2][0], holder)], f"values: {t}: the chain goes through {holder}")
        check_eq(chain[-1][0], t, f"values: {t}: the chain ends at one of them ({chain})")
    p = run([ANALYZER, "check", trace])
    out = p.stdout.decode(errors="replace")
    check_eq(p.returncode, 1, f"values: the check fails ({out[-1500:]})")
    check("FAIL growth" in out and "growing_values.py" in out,
          f"values: on growth at the leaking lines: {out[-1500:]}")


def test_fills(work):
    trace, _ = traced(work, [PY, PROG, "fills"], name="fills.rsc")
    by_type = suspects_of(report(trace))
    fills = line_of(PROG, "# FILLS")
    for t, holder, line in (("builtins.list", "history", fills),
                            ("collections.deque", "recent", fills + 1),
                            ("builtins.bytearray", "blob", fills + 2),
                            ("_io.BytesIO", "log", fills + 3),
                            ("array.array", "samples", fills + 4)):
        s = suspect(by_type, t, "fills")
        if not s:
            continue
        check_eq(s["reasons"], ["grows_in_size"], f"fills: {t}: reasons")
        sizes = s["sizes"]
        check(sizes[-1] > sizes[0] + 200000, f"fills: {t}: sizes {sizes}")
        check(s["counts"][-1] <= s["counts"][0], f"fills: {t}: counts {s['counts']}")
        chain = chain_of(s)
        check_eq(chain, [("builtins.module", None), ("builtins.dict", "__dict__"), (t, holder)],
                 f"fills: {t}: the chain leads to {holder}")
        check_eq(file_line(s["fills_at"]), ("growing_values.py", line),
                 f"fills: {t}: where it fills up")
    text = report_text(trace)
    check("grows steadily in size, not in number" in text, f"fills: the text says why: {text[-2500:]}")


def test(work):
    test_values(work)
    test_fills(work)


main(test)
