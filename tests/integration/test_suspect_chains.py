"""The report's leak suspects for a leak of builtin containers (argv[1] is the interpreter):
dict and list grow steadily, allocated at the leaking line, and each one's chain leads from
the module through the cache to an object allocated there, not to one of the many dicts and
lists the interpreter holds (sys.__dict__, gc.garbage, a type's __mro__). Under sampling,
where most objects have no recorded allocation, both still grow in the report and fail the
check's growth rule: an object that was not sampled is not taken for the interpreter's."""
import sys
from harness import *

PY = sys.argv[1]
PROG = os.path.join(SOURCE, "tests", "pyprograms", "growing_builtins.py")


def test(work):
    trace, _ = traced(work, [PY, PROG])
    r = report(trace)
    line = line_of(PROG, "# LEAK ALLOC")
    by_type = {s["type"]: s for s in r["leak_suspects"]}
    for t in ("builtins.dict", "builtins.list"):
        check(t in by_type, f"{t} is a leak suspect: {sorted(by_type)}")
        if t not in by_type:
            continue
        s = by_type[t]
        check("grows_steadily" in s["reasons"], f"{t}: reasons {s['reasons']}")
        site = s["site"] or {}
        check_eq((os.path.basename(site.get("file") or ""), site.get("line")),
                 ("growing_builtins.py", line), f"{t}: most common site")
        chain = [(st["type"], (st["edge"] or {}).get("text")) for st in s["chain"]]
        check_eq((s["root"] or {}).get("kind"), "module", f"{t}: root of {chain}")
        check_eq(chain[:3], [("builtins.module", None), ("builtins.dict", "__dict__"),
                             ("builtins.dict", "cache")], f"{t}: the chain goes through the cache")
        check_eq(chain[-1][0], t, f"{t}: the chain ends at one of them ({chain})")
    text = report_text(trace)
    check("--[cache]--> dict" in text, f"the text shows the chain through the cache: {text[-2500:]}")

    env = dict(os.environ, REFSCOPE_SAMPLE="65536")
    sampled, _ = traced(work, [PY, PROG], name="sampled.rsc", env=env)
    r = report(sampled)
    growing = sorted(s["type"] for s in r["leak_suspects"] if "grows_steadily" in s["reasons"])
    check({"builtins.dict", "builtins.list"} <= set(growing), f"sampled: dict and list grow: {growing}")
    p = run([ANALYZER, "check", sampled])
    out = p.stdout.decode(errors="replace")
    check_eq(p.returncode, 1, f"sampled: the check fails ({out[-1500:]})")
    check("FAIL growth" in out, f"sampled: on growth: {out[-1500:]}")


main(test)
