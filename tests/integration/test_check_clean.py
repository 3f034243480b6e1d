"""refscope check on clean standard-library programs (json, re, logging, threading,
asyncio, a WSGI application served by wsgiref, a mix of common modules) under one
interpreter (argv[1]): with the default rules and suppressions every rule passes, whether
the program takes snapshots between rounds of work or refscope takes only the one at exit;
and the report names no leak suspect."""
import sys
from check_util import *

PY = sys.argv[1]
PROGRAMS = ["json", "re", "logging", "threading", "asyncio", "wsgi", "stdlib"]


def test(work):
    for name in PROGRAMS:
        src = os.path.join(PYPROGRAMS, f"clean_{name}.py")
        for mode in ("snapshots", "exit-only"):
            args = [] if mode == "snapshots" else ["--no-snapshots"]
            tag = f"{name}-{mode}"
            trace, result, p = run_check(work, [PY, src, *args], tag)
            summary = {r["rule"]: (r["verdict"], r["counted"], r["reason"]) for r in result["rules"]}
            check_eq(p.returncode, 0, f"{tag}: refscope run --check exit status "
                     f"({summary}; {p.stdout.decode(errors='replace')[-2000:]})")
            check_eq(result["verdict"], "pass", f"{tag}: verdict")
            check_eq(result["trace"]["python"], True, f"{tag}: a Python trace")
            # every rule was evaluated (none skipped), and passed
            check_eq(verdicts(result), {"leaked-bytes": "pass", "growth": "pass",
                                        "leaked-references": "pass", "uncollectable": "pass",
                                        "cyclic-garbage": "pass"}, f"{tag}: verdicts")
            window = result["window"]
            if mode == "snapshots":
                check_eq(window["kind"], "snapshots", f"{tag}: growth between two snapshots")
                check_eq((window["from"]["label"], window["to"]["label"]), ("warm-up", "exit"),
                         f"{tag}: the window's snapshots")
            else:
                check_eq(window["kind"], "since-start", f"{tag}: one snapshot, growth since the start")
            # the report judges as the check does: no suspect in a clean program
            suspects = [(x["type"], x["reasons"], x["counts"]) for x in report(trace)["leak_suspects"]]
            check_eq(suspects, [], f"{tag}: the report's leak suspects")
            if mode == "snapshots":
                # the defaults did something: the interpreter's own objects were left out
                check(rule(result, "growth")["suppressed"] > 0, f"{tag}: growth suppressed "
                      "the interpreter's objects")


main(test)
