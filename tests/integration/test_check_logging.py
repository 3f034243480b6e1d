"""refscope check on a program whose logging handler keeps every LogRecord (argv[1] is the
interpreter): the default suppressions leave logging's own loggers out, not the records, so
the growth rule fails on logging.LogRecord with the chain through the handler."""
import sys
from check_util import *

PY = sys.argv[1]


def test(work):
    src = os.path.join(PYPROGRAMS, "logging_record_leak.py")
    _, result, p = run_check(work, [PY, src], "logging-leak", status=1)
    check_eq(failed(result), ["growth"], "the rules that fail")
    f = finding(rule(result, "growth"), "type:logging.LogRecord")
    check(f["value"] >= 2000, f"LogRecords gained: {f['value']}")
    check("ListHandler.records" in (f["chain"] or ""), f"held by the handler's list: {f['chain']!r}")


main(test)
