"""A program that crashes (SIGSEGV, abort) or exits with a status: under refscope it ends
the same way as without (same signal, same status), and its trace is readable: the report
works and says the trace is cut short, verify finds it consistent up to its last chunk,
and the allocations made before the crash are there."""
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
            check_exact(v, mode)
        else:
            check(r["trace"]["status"] in ("partial", "incomplete"),
                  f"{mode}: report status {r['trace']['status']}")
            check(v["status"] in ("partial", "incomplete"), f"{mode}: verify status")
            text = report_text(trace).upper()
            check("PARTIAL" in text or "INCOMPLETE" in text, f"{mode}: the text report says so")
        # 4 threads made PER_THREAD allocations each before the crash; what the writer had
        # not drained yet (its last round, more when it lags) is lost with the process
        made = 4 * PER_THREAD
        got = r["events"]["allocations"]
        check(got > made // 4, f"{mode}: allocations before the crash ({got} of {made})")
        print(f"{mode}: status {p.returncode} as without refscope; {v['status']} trace, "
              f"{v['events']} events verified, {got} of the {made} allocations")


import signal  # noqa: E402
main(test)
