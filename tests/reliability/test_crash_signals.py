"""A program that crashes (SIGSEGV, abort) or exits with a status: under refscope it ends
the same way as without (same signal, same status, same output), and its trace is readable:
the report works, says the trace has no END record and names the signal (JSON and text), verify finds it
consistent up to its last chunk, and every allocation made before the crash is there
(refscope's handler for crash signals has the rings written out before the signal kills the
process). A Python program with faulthandler on (which chains to the previous handler)
crashes with the same traceback and status, and its trace keeps its allocations too."""
import resource
from rel import *

PER_THREAD = 50000


def test(work):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files
    for mode, want in (("segv", -signal.SIGSEGV), ("abort", -signal.SIGABRT), ("exit3", 3)):
        plain = run([program("crash"), mode, str(PER_THREAD)])
        check_eq(plain.returncode, want, f"{mode}: status without refscope")
        trace, p = traced(work, [program("crash"), mode, str(PER_THREAD)], name=f"crash-{mode}.rsc",
                          status=want)
        check(b"allocated" in p.stdout, f"{mode}: the program ran up to its end")
        r = report(trace)
        v = verify(trace)
        if mode == "exit3":
            check_eq(r["trace"]["status"], "complete", f"{mode}: report status")
            check_eq(r["trace"]["fatal_signal"], None, f"{mode}: no signal in the report")
            check_exact(v, mode)
        else:
            check(r["trace"]["status"] in ("partial", "incomplete"),
                  f"{mode}: report status {r['trace']['status']}")
            check(v["status"] in ("partial", "incomplete"), f"{mode}: verify status")
            text = report_text(trace)
            check("PARTIAL" in text or "INCOMPLETE" in text, f"{mode}: the text report says so")
            signame = {"segv": "SIGSEGV", "abort": "SIGABRT"}[mode]
            check_eq(r["trace"]["fatal_signal"], signame, f"{mode}: the JSON report's signal")
            check(f"the program was killed by {signame} at" in text,
                  f"{mode}: the text report names the signal:\n{text[:600]}")
        # 4 threads made PER_THREAD allocations each before the crash, all joined: every
        # one is in the file, however far behind the writer was
        made = 4 * PER_THREAD
        got = r["events"]["allocations"]
        check(got >= made, f"{mode}: allocations before the crash ({got} of {made})")
        print(f"{mode}: status {p.returncode} as without refscope; {v['status']} trace, "
              f"{v['events']} events verified, {got} of the {made} allocations")
    python_faulthandler(work)


# 20,000 objects kept alive, then a read through a null pointer; what the signal module
# sees of the crash signals' handlers is printed (the same as without refscope)
CRASHING_PY = """
import ctypes, faulthandler, signal
kept = [bytearray(100) for _ in range(20000)]
print("kept", len(kept), faulthandler.is_enabled(), flush=True)
print([str(signal.getsignal(s)) for s in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL,
      signal.SIGFPE, signal.SIGABRT)], flush=True)
ctypes.string_at(0)  # CRASH
"""


def python_faulthandler(work):
    cmd = [sys.executable, "-X", "faulthandler", "-c", CRASHING_PY]
    plain = run(cmd)
    check_eq(plain.returncode, -signal.SIGSEGV, "python: status without refscope")
    trace, p = traced(work, cmd, name="crash-python.rsc", status=-signal.SIGSEGV)
    check_eq(p.stdout, plain.stdout, "python: output")
    check(b"Fatal Python error: Segmentation fault" in p.stderr,
          f"python: faulthandler's message is there: {p.stderr[-500:]!r}")
    crash_line = next(n for n, text in enumerate(CRASHING_PY.split("\n"), 1) if "# CRASH" in text)
    check_eq(p.stderr.count(f'File "<string>", line {crash_line}'.encode()), 1,
             "python: faulthandler's traceback names the crashing line once")
    r = report(trace)
    check_eq(r["trace"]["status"], "incomplete", "python: report status")
    check_eq(r["trace"]["fatal_signal"], "SIGSEGV", "python: the report names the signal")
    live = r["events"]["allocations"] - r["events"]["frees"]
    check(live >= 20000, f"python: the 20,000 kept objects are live in the trace ({live} blocks)")
    print(f"python -X faulthandler: status {p.returncode} as without refscope, "
          f"{live} blocks live at the crash")


import signal  # noqa: E402
main(test)
