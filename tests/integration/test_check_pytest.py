"""The pytest plugin (python/refscope_pytest.py) with Debian's python3 and python3-pytest:
the marked test that leaks fails with the leaking type, its allocation site and the chain
of references in the message; the clean one and the one within its limit pass; unmarked
tests are checked with --refscope-leaks. Started plainly, the session re-executes itself
under refscope; started under `refscope run`, it does not."""
import re
import shutil
import xml.etree.ElementTree as ET
from check_util import *

PY = "/usr/bin/python3"
PLUGIN_DIR = os.path.join(SOURCE, "python")
TESTS = os.path.join(PYPROGRAMS, "pytest_leaks", "test_leaks.py")


def pytest_run(work, name, *args, under_refscope=False):
    junit = work.file(f"{name}.xml")
    env = dict(os.environ, PYTHONPATH=PLUGIN_DIR, REFSCOPE_BIN=ANALYZER)
    env.pop("LD_PRELOAD", None)
    cmd = [PY, "-m", "pytest", "-p", "refscope_pytest", "-p", "no:cacheprovider",
           f"--junitxml={junit}", *args, work.file("test_leaks.py")]
    if under_refscope:
        cmd = [REFSCOPE, "run", "-q", "-f", "-o", work.file(f"{name}.rsc"), "--"] + cmd
    else:
        cmd[3:3] = ["--refscope-trace", work.file(f"{name}.rsc")]
    p = run(cmd, env=env, timeout=600)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    check(os.path.exists(junit), f"pytest wrote no JUnit XML ({p.returncode}):\n{out[-3000:]}")
    cases = {}
    for c in ET.parse(junit).getroot().iter("testcase"):
        f = c.find("failure")
        e = c.find("error")
        cases[c.get("name")] = ("failed", f.get("message") + "\n" + (f.text or "")) if f is not None \
            else ("error", e.get("message")) if e is not None else ("passed", "")
    return p, out, cases


def check_leak_message(msg, leak_line):
    for part in ("refscope: this test leaks",
                 "test_leaks.Session grew by 25 objects (0 -> 25, limit 0)",
                 f"allocated at test_leaks.py:{leak_line} test_leaks",
                 "held by module test_leaks -> dict[_registry] -> list["):
        check(part in msg, f"the failure message says {part!r}:\n{msg}")


def test(work):
    shutil.copy(TESTS, work.file("test_leaks.py"))
    leak_line = line_of(TESTS, "# LEAK")

    # started plainly: re-executes itself under refscope
    p, out, cases = pytest_run(work, "plain")
    check_eq(p.returncode, 1, f"pytest's exit status (tests failed):\n{out[-3000:]}")
    check("refscope: running the tests under refscope" in out, f"re-executed:\n{out[-2000:]}")
    check(os.path.exists(work.file("plain.rsc")), "the session's trace")
    check_eq({k: v[0] for k, v in cases.items()},
             {"test_leaks": "failed", "test_clean": "passed", "test_leaks_within_limit": "passed",
              "test_unmarked_leak": "passed"}, "outcomes")
    check_leak_message(cases["test_leaks"][1], leak_line)
    check("refscope: 3 tests checked for leaks in" in out and "1 leaking" in out,
          f"the terminal summary:\n{out[-1500:]}")

    # under refscope run, every test checked: the unmarked leak fails too
    p, out, cases = pytest_run(work, "all", "--refscope-leaks", under_refscope=True)
    check("running the tests under refscope" not in out, "no re-execution under refscope run")
    check_eq({k: v[0] for k, v in cases.items()},
             {"test_leaks": "failed", "test_clean": "passed", "test_leaks_within_limit": "passed",
              "test_unmarked_leak": "failed"}, "outcomes with --refscope-leaks")
    check_leak_message(cases["test_leaks"][1], leak_line)
    check(re.search(r"test_leaks.Session grew by 1 object \(\d+ -> \d+, limit 0\)", cases["test_unmarked_leak"][1]),
          f"the unmarked leak:\n{cases['test_unmarked_leak'][1]}")

    # a higher limit lets the small leak through
    p, out, cases = pytest_run(work, "limit", "--refscope-leaks", "--refscope-max-objects", "30")
    check_eq({k: v[0] for k, v in cases.items()},
             {"test_leaks": "passed", "test_clean": "passed", "test_leaks_within_limit": "passed",
              "test_unmarked_leak": "passed"}, "outcomes with a limit of 30")


main(test)
