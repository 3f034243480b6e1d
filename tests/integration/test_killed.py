"""A program killed with SIGKILL mid-run: its trace is readable up to the last complete
chunk and the report says it is not complete."""
import signal, time
from harness import *


def test(work):
    out = work.file("killed.rsc")
    prog = "import time\nkeep=[]\nwhile True:\n    keep.append(bytearray(100)); keep.append([1,2,3])\n    if len(keep) > 200000: keep.clear()\n"
    p = subprocess.Popen([REFSCOPE, "run", "-q", "-o", out, "--", "/usr/bin/python3", "-c", prog])
    time.sleep(1.5)
    # kill the program itself (the child of `refscope run`), not the CLI
    children = run(["pgrep", "-P", str(p.pid)]).stdout.split()
    check(children, "the traced program is running")
    os.kill(int(children[0]), signal.SIGKILL)
    p.wait(timeout=30)
    check_eq(p.returncode, -signal.SIGKILL, "refscope run reports the program's death by SIGKILL")
    r = report(out)
    check(r["trace"]["status"] in ("partial", "incomplete"), f"status {r['trace']['status']}")
    check(r["events"]["allocations"] > 1000, "events before the kill are there")
    text = report_text(out)
    check("PARTIAL" in text.upper() or "INCOMPLETE" in text.upper(), "the text report says the trace is cut short")


main(test)
