"""A class made at run time from a base of the program's (argv[1] is the interpreter): the
dict of subclasses it gives its base (held by the base's C struct, not visited by the
collector) is reached through the base's __subclasses__, so the check finds no reference
held from C and the report no suspect."""
import sys
from check_util import *

PY = sys.argv[1]


def test(work):
    src = os.path.join(PYPROGRAMS, "runtime_subclass.py")
    trace, result, p = run_check(work, [PY, src], "subclass", status=0)
    check_eq(rule(result, "leaked-references")["counted"], 0,
             f"nothing held from C: {p.stdout.decode()}")
    check_eq(report(trace)["leak_suspects"], [], "no leak suspect")


main(test)
