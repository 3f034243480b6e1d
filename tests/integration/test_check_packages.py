"""refscope check on a clean program using common installed packages, C and Rust extensions
among them (argv[1] is an interpreter that has them): no growth, no reference held from C,
no uncollectable or cyclic garbage, and no leak suspect in the report. With --from the
warm-up snapshot every rule passes, leaked-bytes included: the packages' one-time set-up
(OpenSSL's tables, pydantic's validators, orjson's buffer) is made before it. Without
--from, leaked-bytes may still count the few hundred bytes pydantic-core's validators keep
for the model classes (a live object's memory, which the trace cannot tell from a leak)."""
import sys
from check_util import *

PY = sys.argv[1]


def test(work):
    src = os.path.join(PYPROGRAMS, "clean_packages.py")
    trace, result, p = run_check(work, [PY, src], "packages")
    v = verdicts(result)
    del v["leaked-bytes"]
    check_eq(v, {"growth": "pass", "leaked-references": "pass", "uncollectable": "pass",
                 "cyclic-garbage": "pass"}, f"verdicts: {p.stdout.decode()}")
    check_eq([(s["type"], s["reasons"]) for s in report(trace)["leak_suspects"]], [],
             "the report's leak suspects")
    res, cp = check_json(trace, "--from", "warm-up", status=0)
    check_eq(res["verdict"], "pass", f"with --from warm-up: {cp.stderr.decode()}")
    openssl = [s for s in res["suppressions"] if s["text"].startswith("stack:ossl_")]
    check(sum(s["hits"] for s in openssl) == 0,
          "with --from, OpenSSL's set-up before the warm-up is not even counted")
    res, _ = check_json(trace)
    r = rule(res, "leaked-bytes")
    check(r["counted"] < 4096, f"without --from, under 4 kB: {r['findings']}")
    check(sum(s["hits"] for s in res["suppressions"] if s["text"].startswith("stack:ossl_")) > 0,
          "OpenSSL's state, kept for the process, taken by its suppressions")


main(test)
