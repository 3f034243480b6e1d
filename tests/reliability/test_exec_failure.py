"""An exec that fails, then a million allocations (far more than a ring holds): the program
must run to its end as it does without refscope, and the trace resumes after the failed exec
and verifies.

KNOWN SHIM BUG (found by CPython's test_os under refscope, which then hangs in
FwalkTests.test_fd_leak): the exec ends the trace, which tells the writer thread to stop
without clearing its "running" flag; when the exec fails, tracing resumes but no writer is
started again, so once the thread's ring is full the program waits forever. Shown, not failed
on, unless REFSCOPE_STRICT_KNOWN_BUGS=1 (the lead's fix makes it pass)."""
import signal
from rel import *

STRICT = os.environ.get("REFSCOPE_STRICT_KNOWN_BUGS") == "1"


def test(work):
    plain = run([program("exec_fail")], check_status=0)
    check_eq(plain.stdout, b"done\n", "without refscope")
    out = work.file("exec-fail.rsc")
    p = subprocess.Popen([REFSCOPE, "run", "-q", "-o", out, "--", program("exec_fail")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, _ = p.communicate(timeout=15)  # a second or two normally
    except subprocess.TimeoutExpired:
        for child in run(["pgrep", "-P", str(p.pid)]).stdout.split():
            os.kill(int(child), signal.SIGKILL)  # the program, by its pid
        p.wait(timeout=30)
        check(not STRICT, "the program hangs after a failed exec")
        print("KNOWN SHIM BUG: after a failed exec the program hangs once its ring is full "
              "(no writer thread is started again)")
        return
    p.stdout = stdout
    check_eq(p.returncode, 0, "status")
    check_eq(p.stdout, b"done\n", "output")
    v = verify(out)
    check(v["replay"]["allocations"] >= 1000000, "the allocations after the failed exec are traced")
    print(f"after a failed exec: {v['events']} events, {v['status']}, consistent")


main(test)
