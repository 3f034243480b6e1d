"""An exec that fails, then a million allocations (far more than a ring holds): the program
must run to its end as it does without refscope, and the trace resumes after the failed exec
and verifies. (Found by CPython's test_os, which hung in FwalkTests.test_fd_leak: the exec
ended the writer thread's loop, and the resumed trace waited for a writer that was gone.)"""
import signal
from rel import *


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
        check(False, "the program hangs after a failed exec")
    p.stdout = stdout
    check_eq(p.returncode, 0, "status")
    check_eq(p.stdout, b"done\n", "output")
    v = verify(out)
    check(v["replay"]["allocations"] >= 1000000, "the allocations after the failed exec are traced")
    print(f"after a failed exec: {v['events']} events, {v['status']}, consistent")


main(test)
