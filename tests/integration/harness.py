"""Helpers for refscope's integration tests: run a program under `refscope run`, read the
report as a user would (JSON or text), and fail with a message that says what differed.

Paths come from the environment ctest sets (see CMakeLists.txt). Tests run with Debian's
python3; the programs under test get LD_PRELOAD only through `refscope run`."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

REFSCOPE = os.environ["REFSCOPE"]
ANALYZER = os.environ.get("REFSCOPE_ANALYZER") or REFSCOPE
LIB = os.environ["REFSCOPE_LIB"]
PROGRAMS = os.environ["REFSCOPE_TEST_PROGRAMS"]
EXAMPLES = os.environ["REFSCOPE_EXAMPLES"]
SOURCE = os.environ["REFSCOPE_SOURCE"]


class TestFailure(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def check_eq(actual, expected, what):
    if actual != expected:
        raise TestFailure(f"{what}: expected {expected!r}, got {actual!r}")


def program(name):
    return os.path.join(PROGRAMS, name)


def example(name):
    return os.path.join(EXAMPLES, name)


def line_of(path, marker):
    """1-based line of the first line containing marker (e.g. 'ALLOC A')."""
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if marker in text:
                return n
    raise TestFailure(f"{marker!r} not found in {path}")


def lines_of(path, marker):
    with open(path, encoding="utf-8") as f:
        return [n for n, text in enumerate(f, 1) if marker in text]


class Workdir:
    """A temporary directory per test, removed unless the test fails."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="refscope-test-")

    def file(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def run(cmd, timeout=120, input=None, env=None, check_status=None):
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, input=input, env=env)
    if check_status is not None and p.returncode != check_status:
        raise TestFailure(
            f"{' '.join(cmd)} exited with {p.returncode}, expected {check_status}\n"
            f"stdout: {p.stdout.decode(errors='replace')[-2000:]}\n"
            f"stderr: {p.stderr.decode(errors='replace')[-2000:]}")
    return p


def traced(work, cmd, name="trace.rsc", status=0, timeout=120, env=None, extra=()):
    """Runs cmd under `refscope run -o`; returns (trace path, completed process)."""
    out = work.file(name)
    p = run([REFSCOPE, "run", "-q", "-o", out, *extra, "--", *cmd], timeout=timeout, env=env,
            check_status=status)
    check(os.path.exists(out), f"no trace file {out} after running {cmd}")
    return out, p


def traces_in(work, pattern="*.rsc"):
    return sorted(glob.glob(os.path.join(work.path, pattern)))


def analyzer(args, status=0):
    p = run([ANALYZER, *args], check_status=status)
    return p


def report(trace, *args):
    p = analyzer(["report", trace, "--json", *args])
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise TestFailure(f"report --json is not JSON ({e}): {p.stdout[:500]!r}")


def report_text(trace, *args):
    return analyzer(["report", trace, *args]).stdout.decode()


def stack_key(stack):
    """(function, file basename, line) of the innermost frame of a report stack."""
    if not stack.get("frames"):
        return (None, None, None)
    f = stack["frames"][0]
    return (f.get("function"), os.path.basename(f.get("file") or ""), f.get("line"))


def find_stacks(section, function=None, file=None, line=None):
    """Stacks of a report section whose innermost frame matches."""
    found = []
    for s in section["by_stack"]:
        fn, fl, ln = stack_key(s)
        if function is not None and fn != function:
            continue
        if file is not None and fl != file:
            continue
        if line is not None and ln != line:
            continue
        found.append(s)
    return found


def main(test):
    work = Workdir()
    try:
        test(work)
    except TestFailure as e:
        print(f"FAIL: {e}\n(files kept in {work.path})", file=sys.stderr)
        sys.exit(1)
    except subprocess.TimeoutExpired as e:
        print(f"FAIL: timed out: {e}\n(files kept in {work.path})", file=sys.stderr)
        sys.exit(1)
    work.cleanup()
    print("ok")
