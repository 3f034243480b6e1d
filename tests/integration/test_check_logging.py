"""refscope check and the report on leaks through logging (argv[1] is the interpreter). The
default suppressions do not hide them: a handler that keeps every LogRecord fails the growth
rule on logging.LogRecord with the chain through the handler; a logger per request id fails
it on logging.Logger with the chain through logging's manager, and is a leak suspect."""
import sys
from check_util import *

PY = sys.argv[1]


def records(work):
    src = os.path.join(PYPROGRAMS, "logging_record_leak.py")
    _, result, p = run_check(work, [PY, src], "logging-leak", status=1)
    check_eq(failed(result), ["growth"], "the rules that fail")
    f = finding(rule(result, "growth"), "type:logging.LogRecord")
    check(f["value"] >= 2000, f"LogRecords gained: {f['value']}")
    check("ListHandler.records" in (f["chain"] or ""), f"held by the handler's list: {f['chain']!r}")


def loggers(work):
    src = os.path.join(PYPROGRAMS, "logging_logger_leak.py")
    trace, result, p = run_check(work, [PY, src], "logger-leak", status=1)
    check_eq(failed(result), ["growth"], "the rules that fail")
    f = finding(rule(result, "growth"), "type:logging.Logger")
    check_eq(f["value"], 1200, "Loggers gained from the warm-up to the last round")
    check("loggerDict" in (f["chain"] or ""), f"held by logging's manager: {f['chain']!r}")
    line = line_of(src, "getLogger(")
    check_eq((f["site"]["text"].split(":")[0], f["site"]["called_from"]),
             ("logging/__init__.py", f"logging_logger_leak.py:{line} handle"),
             "made in logging (its package's file named with its directory), called from the program")
    check(f"FAIL growth: logging.Logger grew by 1,200 objects (100 -> 1,300, limit 100): allocated at "
          f"logging/__init__.py:" in p.stdout.decode() and
          f"(called from logging_logger_leak.py:{line} handle)" in p.stdout.decode(),
          f"the reason line names the loggers (not their lists and dicts) and the caller: "
          f"{p.stdout.decode()}")
    by_type = {s["type"]: s for s in report(trace)["leak_suspects"]}
    check("logging.Logger" in by_type, f"suspects: {sorted(by_type)}")
    check_eq(by_type["logging.Logger"]["site"]["called_from"], f"logging_logger_leak.py:{line} handle",
             "the suspect's site, called from the program")
    check_eq(by_type["logging.Logger"]["counts"], [100, 400, 700, 1000, 1300, 1300],
             "Loggers in the snapshots (the last at exit)")


def test(work):
    records(work)
    loggers(work)


main(test)
