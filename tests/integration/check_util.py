"""Helpers of the `refscope check` tests: run a program under `refscope run --check`, read
the check's JSON back, and find a rule or a finding in it."""
import json
import os
from harness import *

PYPROGRAMS = os.path.join(SOURCE, "tests", "pyprograms")


def run_check(work, cmd, name, status=None, check_args=(), env=None, timeout=300):
    """`refscope run -o TRACE --check --json J CHECK_ARGS -- CMD`; returns (trace, JSON,
    process). status: the exit status expected (None: 0 or 1)."""
    trace = work.file(name + ".rsc")
    out = work.file(name + ".json")
    p = run([REFSCOPE, "run", "-q", "-f", "-o", trace, "--check", "--json", out, *check_args,
             "--", *cmd], timeout=timeout, env=env)
    if status is not None:
        check_eq(p.returncode, status, f"exit status of refscope run --check on {name}\n"
                 f"stdout: {p.stdout.decode(errors='replace')[-3000:]}\n"
                 f"stderr: {p.stderr.decode(errors='replace')[-3000:]}")
    else:
        check(p.returncode in (0, 1), f"refscope run --check on {name} exited with "
              f"{p.returncode}: {p.stderr.decode(errors='replace')[-3000:]}")
    check(os.path.exists(out), f"no JSON written by --check for {name}")
    with open(out, encoding="utf-8") as f:
        return trace, json.load(f), p


def check_json(trace, *args, status=None):
    """`refscope check TRACE --json - ARGS`; returns (JSON, process)."""
    p = run([ANALYZER, "check", trace, "--json", "-", *args])
    if status is not None:
        check_eq(p.returncode, status, f"exit status of refscope check {' '.join(args)}\n"
                 f"stderr: {p.stderr.decode(errors='replace')[-3000:]}")
    try:
        return json.loads(p.stdout), p
    except json.JSONDecodeError as e:
        raise TestFailure(f"refscope check --json is not JSON ({e}): {p.stdout[:500]!r}")


def rule(result, name):
    rules = [r for r in result["rules"] if r["rule"] == name]
    check_eq(len(rules), 1, f"rule {name} in the check's JSON")
    return rules[0]


def verdicts(result):
    return {r["rule"]: r["verdict"] for r in result["rules"]}


def failed(result):
    return sorted(r["rule"] for r in result["rules"] if r["verdict"] == "fail")


def finding(r, key):
    found = [f for f in r["findings"] if f["key"] == key]
    check(found, f"finding {key!r} in rule {r['rule']} (findings: "
          f"{[(f['key'], f['value']) for f in r['findings'][:10]]})")
    return found[0]


def site_is(f, filename, line):
    site = f.get("site") or {}
    return os.path.basename(site.get("file") or "") == filename and site.get("line") == line
