"""Helpers shared by the reliability tests, on top of ../integration/harness.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import *  # noqa: E402,F401,F403
import harness  # noqa: E402

OTHER_PROGRAMS = os.environ.get("REFSCOPE_OTHER_PROGRAMS", "")


def verify(trace, expect_ok=True):
    """`refscope verify --json`; checks the exit status agrees with expect_ok and returns
    the JSON."""
    p = harness.run([harness.ANALYZER, "verify", trace, "--json"])
    try:
        v = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise TestFailure(f"verify --json is not JSON ({e}): {p.stdout[:500]!r}")
    if expect_ok is not None:
        want = 0 if expect_ok else 1
        if p.returncode != want:
            text = harness.run([harness.ANALYZER, "verify", trace]).stdout.decode(errors="replace")
            raise TestFailure(f"verify {trace} exited {p.returncode}, expected {want}:\n{text}"
                              f"\nstderr: {p.stderr.decode(errors='replace')[-2000:]}")
    check_eq(v["consistent"], p.returncode == 0, "verify's consistent flag and exit status")
    return v


def verify_text(trace):
    return harness.run([harness.ANALYZER, "verify", trace]).stdout.decode(errors="replace")


def check_exact(v, what):
    """A complete trace with nothing lost: every free matched or explained, counts exact."""
    check_eq(v["status"], "complete", f"{what}: status")
    check_eq(v["problems"], [], f"{what}: problems")
    check_eq(v["order_violations"], 0, f"{what}: events out of order")
    r, c = v["replay"], v["counters"]
    check_eq(r["frees_of_freed"], 0, f"{what}: frees of freed blocks")
    check_eq(r["replaced_live"], 0, f"{what}: allocations over live blocks")
    check_eq(c["dropped"], 0, f"{what}: dropped events")
    check_eq(c["end_events"], v["events"], f"{what}: END total vs events in the file")
    check_eq(c["events"], v["events"], f"{what}: threads' own counts vs events in the file")
    check_eq(c["after_final_drain"], 0, f"{what}: events made after the final drain")
    check_eq(v["stacks"]["undefined"], 0, f"{what}: undefined stacks")
