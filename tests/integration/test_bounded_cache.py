"""Bounded caches are not leaks (argv[1] is the interpreter): what only an lru_cache with a
maxsize holds is left out of growth, in the check and in the report's suspects, while what
an unbounded one (maxsize=None) keeps still fails the check and is a suspect."""
import sys
from check_util import *

PY = sys.argv[1]


def test(work):
    src = os.path.join(PYPROGRAMS, "bounded_cache.py")
    trace, result, p = run_check(work, [PY, src], "caches", status=1)
    growth = rule(result, "growth")
    keys = [f["key"] for f in growth["findings"]]
    check("type:__main__.Rendered" in keys, f"the unbounded cache's results grow: {keys}")
    # (sites are not asked: a key tuple taken from the interpreter's free list keeps the
    # site of the tuple that memory held before, which may be the bounded cache's line)
    check("type:__main__.Parsed" not in keys, f"the bounded cache's results do not: {keys}")
    f = finding(growth, "type:__main__.Rendered")
    check_eq(f["value"], 600, "Rendered gained from the warm-up to the last round")
    out = p.stdout.decode()
    check(f"FAIL growth: __main__.Rendered grew by 600 objects (150 -> 750, limit 100): allocated at "
          f"bounded_cache.py:{line_of(src, '# UNBOUNDED')} render" in out,
          f"the reason line names the program's type, not the key tuples: {out}")
    suspects = [s["type"] for s in report(trace)["leak_suspects"]]
    check("__main__.Rendered" in suspects, f"Rendered is a suspect: {suspects}")
    check("__main__.Parsed" not in suspects, f"Parsed is not: {suspects}")
    # refscope growth, the raw counts, still shows both filling up
    g = run([ANALYZER, "growth", trace, "--json"])
    rows = {t["name"]: t for t in json.loads(g.stdout)["types"]}
    check(rows.get("__main__.Parsed", {}).get("count_change") == 600,
          f"growth's raw count of Parsed: {rows.get('__main__.Parsed')}")


main(test)
