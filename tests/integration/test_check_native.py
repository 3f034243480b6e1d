"""refscope check on examples/native_leak.c: it fails "leaked-bytes" with its two leaking
sites (and skips the Python rules); a limit above the leak or a baseline holding it passes;
a config file sets limits and suppressions; `refscope run --check` returns the program's
own failure first, then the check's verdict; usage and unreadable traces are errors."""
from check_util import *

SRC = example("native_leak.c")


def test(work):
    binary = program("native_leak")
    a, b = line_of(SRC, "/* ALLOC A */"), line_of(SRC, "/* ALLOC B */")
    trace, result, p = run_check(work, [binary], "native", status=1)
    check_eq(verdicts(result), {"leaked-bytes": "fail", "growth": "skipped",
                                "leaked-references": "skipped", "uncollectable": "skipped",
                                "cyclic-garbage": "skipped"}, "verdicts")
    r = rule(result, "leaked-bytes")
    check_eq(r["counted"], 100 * 1000 + 4 * 4096, "bytes leaked")
    fa = finding(r, f"site:native_leak.c:{a} leak_here")
    fb = finding(r, f"site:native_leak.c:{b} leak_in_thread")
    check_eq((fa["value"], fa["count"], fb["value"], fb["count"]), (100000, 100, 16384, 4),
             "bytes and blocks of ALLOC A and ALLOC B")
    check_eq(len(r["findings"]), 2, "nothing else leaked (the C runtime's blocks are set apart)")
    out = p.stdout.decode()
    check(f"FAIL leaked-bytes: 116,384 bytes left allocated at exit (limit 0) in 2 sites: largest: "
          f"100,000 bytes in 100 blocks at native_leak.c:{a} leak_here" in out,
          f"the reason line:\n{out}")

    # limits from flags and from a config file; suppressions
    res, _ = check_json(trace, "--max-leaked-bytes", "1MB", status=0)
    check_eq(rule(res, "leaked-bytes")["verdict"], "pass", "a 1 MB limit passes")
    res, _ = check_json(trace, "--suppress", "stack:leak_here", status=1)
    check_eq(rule(res, "leaked-bytes")["counted"], 16384, "leak_here suppressed by a stack pattern")
    res, _ = check_json(trace, "--suppress", "site:*/native_leak.c:*", status=0)
    check_eq(rule(res, "leaked-bytes")["suppressed"], 116384, "both sites suppressed by a site pattern")
    cfg = work.file("check.cfg")
    with open(cfg, "w") as f:
        f.write("# limits for native_leak\nmax-leaked-bytes = 20 kB\n"
                "suppress site:*native_leak.c:*leak_here   # ALLOC A is on purpose\n")
    res, _ = check_json(trace, "--config", cfg, status=0)
    r = rule(res, "leaked-bytes")
    check_eq((r["limit"], r["counted"], res["config"]["file"]), (20000, 16384, cfg), "config file")
    supp = [s for s in res["suppressions"] if s["origin"] == f"{cfg}:3"]
    check_eq(len(supp), 1, "the config's suppression, with its file and line")
    check_eq(supp[0]["hits"], 100000, "bytes it took out")
    with open(cfg, "w") as f:
        f.write("max-leaked-bytes = 20 kB\nmax-growht = 5\n")
    p = run([ANALYZER, "check", trace, "--config", cfg])
    check_eq(p.returncode, 2, "a config error is a usage error")
    check(f"{cfg}:2: unknown setting 'max-growht'" in p.stderr.decode(), p.stderr.decode())

    # baseline: the same leak passes, a new one fails
    base = work.file("native.json")
    res, _ = check_json(trace, "--baseline", base, status=0)
    check_eq(rule(res, "leaked-bytes")["counted"], 0, "nothing new against its own baseline")
    with open(base, encoding="utf-8") as f:
        doc = json.load(f)
    for r in doc["rules"]:
        r["findings"] = [x for x in r["findings"] if "leak_in_thread" not in x["key"]]
    with open(base, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    res, p = check_json(trace, "--baseline", base, status=1)
    r = rule(res, "leaked-bytes")
    check_eq(r["counted"], 16384, "only ALLOC B is new")
    check("16,384 bytes new or more than before left allocated at exit" in p.stderr.decode(),
          p.stderr.decode())

    # refscope run --check: the program's failure wins, then the verdict
    run_check(work, ["/bin/true"], "true", status=0)
    run_check(work, ["/bin/sh", "-c", "exit 7"], "sh7", status=7)
    p = run([REFSCOPE, "run", "-q", "-f", "-o", work.file("x.rsc"), "--check", "--bogus", "--",
             binary])
    check_eq(p.returncode, 2, "an unknown check option is a usage error")
    p = run([REFSCOPE, "run", "-q", "-f", "-o", work.file("x.rsc"), "--check", binary])
    check_eq(p.returncode, 2, "--check without -- before the command is a usage error")
    check(not os.path.exists(work.file("x.rsc")), "the command did not run")
    # errors: 3 for an unreadable trace, 2 for usage
    bad = work.file("bad.rsc")
    with open(bad, "wb") as f:
        f.write(b"not a trace")
    check_eq(run([ANALYZER, "check", bad]).returncode, 3, "unreadable trace")
    check_eq(run([ANALYZER, "check", trace, "--max-growth", "lots"]).returncode, 2, "bad limit")
    check_eq(run([ANALYZER, "check", trace, "--baseline", bad]).returncode, 3, "bad baseline")


main(test)
