"""A C extension that leaks a reference per call (argv[1] is the interpreter): its objects
are reported as leaked references, with their allocation site, and the report's leak
suspect for their type shows the chain of a leaked one (held from C), not that of the one
a module holds. An object held in a C field that no tp_traverse shows (of an object without
GC support, or of a tracked one whose tp_traverse skips it) is not leaked: its chain goes
through that field."""
import json
import sys
import sysconfig
from harness import *

PY = sys.argv[1]
SRC = os.path.join(SOURCE, "tests", "pyprograms")


def build_extension(work):
    info = json.loads(run([PY, "-c", "import sysconfig, json; print(json.dumps("
                                      "[sysconfig.get_paths()['include'], sysconfig.get_config_var('EXT_SUFFIX')]))"],
                          check_status=0).stdout)
    out = work.file("leakext" + info[1])
    run(["cc", "-shared", "-fPIC", "-O1", "-I", info[0], os.path.join(SRC, "leakext.c"), "-o", out], check_status=0)
    return work.path


def test(work):
    ext_dir = build_extension(work)
    user = os.path.join(SRC, "leakext_user.py")
    trace, p = traced(work, [PY, user, ext_dir])
    held = p.stdout.decode().split("held blob at ")[1].split()[0]
    hidden = p.stdout.decode().split("hidden blob at ")[1].split()[0]
    c = json.loads(analyzer(["cycles", trace, "--json"]).stdout)
    line = line_of(user, "# LEAK ALLOC")
    blobs = [x for x in c["leaked"] if x["type"] == "__main__.Blob"]
    leaked = [(x["type"], x["count"]) for x in c["leaked"]]
    check(blobs, f"Blob reported as a leaked reference (leaked: {leaked})")
    check_eq(sum(x["count"] for x in blobs), 20, "leaked Blob objects")
    sites = {(os.path.basename((x["site"] or {}).get("file") or ""), (x["site"] or {}).get("line")) for x in blobs}
    check_eq(sites, {("leakext_user.py", line)}, "their allocation site")
    others = [x for x in c["leaked"] if x["type"] != "__main__.Blob"]
    others = [(x["type"], x["count"]) for x in others]
    check(not others, f"nothing else is reported leaked: {others}")
    r = report(trace)
    suspects = [s for s in r["leak_suspects"] if s["type"] == "__main__.Blob"]
    check(suspects, f"Blob is a leak suspect: {[s['type'] for s in r['leak_suspects']]}")
    s = suspects[0]
    check("leaked" in s["reasons"], f"Blob suspected as leaked: {s['reasons']}")
    check_eq(s["count"], 23, "Blob objects in the last snapshot")
    check_eq((s["root"] or {}).get("kind"), "c_held", "the root of Blob's chain")
    check_eq([step["type"] for step in s["chain"]], ["__main__.Blob"], "Blob's chain")
    text = report_text(trace)
    check("__main__.Blob  (held from C)" in text, f"the text names the chain: {text[-1500:]}")
    b = json.loads(analyzer(["backrefs", trace, "--addr", held, "--json"]).stdout)
    steps = [(st["type"], (st["edge"] or {}).get("text")) for st in b["chain"]]
    check_eq((b["root"] or {}).get("kind"), "module", f"the held Blob's root ({steps})")
    check_eq(steps[-2:], [("leakext.Holder", "holder"), ("__main__.Blob", "(C field +16)")],
             "the held Blob's chain ends in the Holder's field")
    b = json.loads(analyzer(["backrefs", trace, "--addr", hidden, "--json"]).stdout)
    steps = [(st["type"], (st["edge"] or {}).get("text")) for st in b["chain"]]
    check_eq((b["root"] or {}).get("kind"), "module", f"the hidden Blob's root ({steps})")
    check_eq(steps[-2:], [("leakext.Hider", "hider"), ("__main__.Blob", "(C field +16)")],
             "the hidden Blob's chain ends in the Hider's field")


main(test)
