"""refscope's pytest plugin: fails the tests that leak, and says who holds the leak.

    PYTHONPATH=/path/to/refscope/python python3 -m pytest -p refscope_pytest [--refscope-leaks]

Tests marked ``@pytest.mark.refscope_leaks`` (or every test, with ``--refscope-leaks``) are
checked: the plugin collects garbage and takes an object-graph snapshot before the test
body runs and after it returns, then runs ``refscope check`` on the trace so far with the
window between the two. When objects the test made outlive it (more than ``max_objects``
per type or per allocation site), or the test leaks references from C or makes
uncollectable cycles, the test fails with the leaking type, its allocation site and the
chain of references that keeps it alive::

    refscope: this test leaks (limit 0 objects per type or allocation site)
      growth: test_cache.Session grew by 3 objects (0 -> 3, limit 0): allocated at
      test_cache.py:14 test_open; held by module test_cache -> dict[_sessions] -> list[0]
      -> test_cache.Session (+1 more)
        3 objects: type:test_cache.Session at test_cache.py:14 test_open
          held by module test_cache -> dict[_sessions] -> list[0] -> test_cache.Session
        ...

(docs/check.md has a real one.)

The marker takes ``max_objects=N`` (default: ``--refscope-max-objects``, itself 0).

The session must run under refscope (the trace is what the checks read). When it does not,
the plugin starts pytest again under ``refscope run`` with the same arguments (once; not
with ``--refscope-no-reexec``, or when ``REFSCOPE_PYTEST_NO_REEXEC`` is set). The refscope
executable is ``$REFSCOPE_BIN``, else ``refscope`` on the PATH, else the one beside the
preloaded librefscope.so, else ``build/bin/refscope`` of the repository this file is in.

Only the body of the test is measured (the call phase, as pytest-memray's limit_leaks
does): fixtures are set up before the first snapshot and torn down after the second.
A test that already failed is not checked. pytest's own machinery and refscope check's
default suppressions (interpreter caches, imports) are left out; ``--refscope-check-args``
adds `refscope check` options, e.g. ``--refscope-check-args="--suppress type:myapp.Cache"``.
"""
import gc
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

try:
    import refscope  # provided by librefscope.so while the process runs under refscope
    if not hasattr(refscope, "trace_path"):
        refscope = None  # a directory named refscope (a checkout of it), not the module
except ImportError:
    refscope = None

MARKER = "refscope_leaks"
# What pytest keeps of a test until its report is made (warnings recorded, log records,
# captured output): not the test's leaks.
PYTEST_SUPPRESSIONS = (
    "site:*/_pytest/*",
    "site:*/pluggy/*",
    "site:*/warnings.py:*",
    "stack:*/_pytest/logging.py:*",
    "site:*/refscope_pytest.py:*",
)


def pytest_addoption(parser):
    group = parser.getgroup("refscope", "leak checks with refscope")
    group.addoption("--refscope-leaks", action="store_true", default=False,
                    help="check every test for leaks (default: only tests marked "
                         "refscope_leaks)")
    group.addoption("--refscope-max-objects", type=int, default=0, metavar="N",
                    help="objects per type or allocation site a test may leave behind "
                         "(default 0; the marker's max_objects overrides it)")
    group.addoption("--refscope-trace", default=None, metavar="FILE",
                    help="where the re-executed session writes its trace (default: a "
                         "temporary directory)")
    group.addoption("--refscope-check-args", default="", metavar="ARGS",
                    help="more options for `refscope check` (shell words)")
    group.addoption("--refscope-no-reexec", action="store_true", default=False,
                    help="do not start pytest again under refscope when it does not run "
                         "under it (leak checks are then off)")


def find_refscope():
    """The refscope executable, or None."""
    env = os.environ.get("REFSCOPE_BIN")
    if env:
        return env
    found = shutil.which("refscope")
    if found:
        return found
    for lib in os.environ.get("LD_PRELOAD", "").replace(":", " ").split():
        if os.path.basename(lib).startswith("librefscope"):
            cand = os.path.join(os.path.dirname(lib), os.pardir, "bin", "refscope")
            if os.access(cand, os.X_OK):
                return os.path.normpath(cand)
    here = os.path.dirname(os.path.abspath(__file__))
    cand = os.path.join(here, os.pardir, "build", "bin", "refscope")
    if os.access(cand, os.X_OK):
        return os.path.normpath(cand)
    return None


class _State:
    def __init__(self, config):
        self.config = config
        self.refscope_bin = find_refscope()
        self.trace = refscope.trace_path() if refscope else None
        self.counter = 0
        self.checked = 0
        self.failed = []
        self.seconds = 0.0
        self.extra = shlex.split(config.getoption("--refscope-check-args") or "")


def _reexec(config):
    """Starts this pytest session again under `refscope run` (does not return), or returns
    the reason it cannot."""
    if os.environ.get("REFSCOPE_PYTEST_REEXEC"):
        return "pytest was started again under refscope, but the refscope module is missing"
    if os.environ.get("REFSCOPE_PYTEST_NO_REEXEC") or config.getoption("--refscope-no-reexec"):
        return "not running under refscope (and not starting again: --refscope-no-reexec)"
    binary = find_refscope()
    if not binary:
        return ("refscope not found: set REFSCOPE_BIN, put refscope on the PATH, or run "
                "`refscope run -- python3 -m pytest -p refscope_pytest ...`")
    trace = config.getoption("--refscope-trace")
    if not trace:
        trace = os.path.join(tempfile.mkdtemp(prefix="refscope-pytest-"), "pytest.rsc")
    env = dict(os.environ)
    env["REFSCOPE_PYTEST_REEXEC"] = "1"
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    args = [binary, "run", "-q", "-f", "-o", trace, "--", sys.executable, "-m", "pytest",
            *config.invocation_params.args]
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        capman.stop_global_capturing()
    sys.stderr.write(f"refscope: running the tests under refscope (trace {trace})\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(str(config.invocation_params.dir))
    os.execve(binary, args, env)
    return "exec failed"  # not reached


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{MARKER}(max_objects=0): fail the test when objects it made outlive it, "
                   "it leaks references or makes uncollectable cycles (refscope)")
    if refscope is None:
        why = _reexec(config)
        config.stash[_disabled_key] = why
        return
    config.stash[_state_key] = _State(config)


_state_key = pytest.StashKey()
_disabled_key = pytest.StashKey()
_leak_key = pytest.StashKey()


def _limit(item):
    marker = item.get_closest_marker(MARKER)
    state = item.config.stash.get(_state_key, None)
    if marker is None and not item.config.getoption("--refscope-leaks"):
        return None
    if state is None:
        return None
    limit = item.config.getoption("--refscope-max-objects")
    if marker is not None:
        if "max_objects" in marker.kwargs:
            limit = int(marker.kwargs["max_objects"])
        elif marker.args:
            limit = int(marker.args[0])
    return limit


def _check(state, before, after, limit):
    """Runs refscope check on the window; returns its JSON."""
    cmd = [state.refscope_bin, "check", state.trace, "--from", before, "--to", after,
           "--max-leaked-bytes", "off", "--max-cyclic-garbage", "off",
           "--max-growth", str(limit), "--json", "-", "-q", "--no-config"]
    for s in PYTEST_SUPPRESSIONS:
        cmd += ["--suppress", s]
    cmd += state.extra
    p = subprocess.run(cmd, capture_output=True, env=_analyzer_env())
    if p.returncode not in (0, 1):
        raise RuntimeError(f"refscope check failed ({p.returncode}): "
                           f"{p.stderr.decode(errors='replace').strip()}")
    return json.loads(p.stdout)


def _analyzer_env():
    """The analyzer must not run under refscope itself."""
    env = dict(os.environ)
    pre = [p for p in env.get("LD_PRELOAD", "").replace(":", " ").split()
           if "librefscope" not in os.path.basename(p)]
    if pre:
        env["LD_PRELOAD"] = " ".join(pre)
    else:
        env.pop("LD_PRELOAD", None)
    env["REFSCOPE_DISABLE"] = "1"
    return env


def _message(result, limit, before, after, trace):
    lines = [f"refscope: this test leaks (limit {limit} object{'s' if limit != 1 else ''} "
             f"per type or allocation site)"]
    for rule in result["rules"]:
        if rule["verdict"] != "fail":
            continue
        lines.append(f"  {rule['rule']}: {rule['reason']}")
        shown = 0
        for f in rule["findings"]:
            if not f["over_limit"] or shown >= 5:
                continue
            shown += 1
            site = (f.get("site") or {}).get("text")
            what = f["type"] if f.get("type") else ""
            lines.append(f"    {f['excess']} {rule['unit']}: {f['key']}"
                         + (f" ({what})" if what and what not in f["key"] else "")
                         + (f" at {site}" if site and site not in f["key"] else ""))
            if f.get("chain"):
                lines.append(f"      held by {f['chain']}")
    lines.append(f"  (trace {trace}; refscope check {shlex.quote(trace)} --from "
                 f"{shlex.quote(before)} --to {shlex.quote(after)} -v shows more)")
    return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    limit = _limit(item)
    if limit is None:
        yield
        return
    state = item.config.stash[_state_key]
    state.counter += 1
    before = f"pytest#{state.counter}:before"
    after = f"pytest#{state.counter}:after"
    t0 = time.monotonic()
    gc.collect()
    refscope.snapshot(before)
    state.seconds += time.monotonic() - t0
    outcome = yield
    if outcome.excinfo is not None:
        return  # it failed on its own: its frames and locals are still held
    t0 = time.monotonic()
    gc.collect()
    refscope.snapshot(after)
    refscope.flush()
    try:
        result = _check(state, before, after, limit)
    finally:
        state.seconds += time.monotonic() - t0
        state.checked += 1
    if result["verdict"] == "fail":
        state.failed.append(item.nodeid)
        # The call phase's report is made failed below: raising here, after the test ran,
        # would skip the hook wrappers around ours (pytest's output capture among them).
        item.stash[_leak_key] = _message(result, limit, before, after, state.trace)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    message = item.stash.get(_leak_key, None) if call.when == "call" else None
    if message is None:
        return
    report = outcome.get_result()
    if report.passed:
        report.outcome = "failed"
        report.longrepr = message


def pytest_report_header(config):
    state = config.stash.get(_state_key, None)
    if state is not None:
        return [f"refscope: leak checks on (trace {state.trace}, analyzer "
                f"{state.refscope_bin or 'NOT FOUND'})"]
    why = config.stash.get(_disabled_key, None)
    if why:
        return [f"refscope: leak checks off: {why}"]
    return None


def pytest_terminal_summary(terminalreporter, config):
    state = config.stash.get(_state_key, None)
    if state is None or not state.checked:
        return
    terminalreporter.write_line(
        f"refscope: {state.checked} test{'s' if state.checked != 1 else ''} checked for leaks "
        f"in {state.seconds:.2f} s ({1000 * state.seconds / state.checked:.0f} ms each), "
        f"{len(state.failed)} leaking; trace {state.trace}")
