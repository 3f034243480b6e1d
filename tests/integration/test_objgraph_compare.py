"""refscope against objgraph on the same heap (argv[1] is the interpreter): per-type counts
of gc-tracked objects equal objgraph.typestats(), and both backref chains have the same
length and end points."""
import json
import sys
from harness import *

PY = sys.argv[1]
# objgraph's own call and the test's few statements between the two views create these
OBJGRAPH_OWN = {"builtins.dict", "builtins.list", "builtins.tuple", "builtins.frame", "builtins.cell",
                "builtins.function", "builtins.method"}


def test(work):
    out = work.file("objgraph.json")
    trace, _ = traced(work, [PY, os.path.join(SOURCE, "tests", "pyprograms", "objgraph_compare.py"), out])
    og = json.load(open(out))
    t = json.loads(analyzer(["types", trace, "--snapshot", "compare", "--no-frozen", "--top", "0", "--json"]).stdout)
    ours = {x["name"]: x["count"] for x in t["types"]}
    theirs = og["stats"]
    check_eq(theirs.get("__main__.Known"), 1234, "objgraph sees the 1234 Known objects")
    differ = []
    for name in sorted(set(ours) | set(theirs)):
        a, b = ours.get(name, 0), theirs.get(name, 0)
        if name in OBJGRAPH_OWN:
            if abs(a - b) > 10:
                differ.append(f"{name}: refscope {a}, objgraph {b}")
        elif a != b:
            differ.append(f"{name}: refscope {a}, objgraph {b}")
    check(not differ, "per-type counts differ:\n  " + "\n  ".join(differ))
    b = json.loads(analyzer(["backrefs", trace, "--snapshot", "compare", "--addr", og["target"], "--json"]).stdout)
    check(b["found"], "refscope finds a chain to the target")
    check_eq(len(b["chain"]), og["chain_len"], f"chain length (objgraph: {og['chain_types']})")
    check_eq((b["chain"][0]["type"], b["chain"][0]["label"]), ("builtins.module", og["root"]), "chain root")
    check_eq((b["chain"][-1]["address"], b["chain"][-1]["type"]), (og["target"], "__main__.Known"), "chain end")


main(test)
