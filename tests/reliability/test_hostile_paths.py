"""A trace names the files the analyzer reads to symbolize (the module map): a hostile or
damaged trace can name a FIFO (opening it waits for a writer forever), a device, a
directory, /proc files. Every command that symbolizes (report, its JSON and --native,
verify, html) must finish promptly, say the module could not be read, and still report."""
import time
from rel import *


def test(work):
    fifo = work.file("fifo")
    os.mkfifo(fifo)
    paths = [fifo, "/dev/zero", "/dev/stdin", "/dev/tty", work.path, "/proc/self/mem",
             "/proc/self/fd/0", "/nonexistent/lib.so", "/usr/lib/x86_64-linux-gnu/libc.so.6"]
    trace = work.file("hostile.rsc")
    run([program("hostile_trace"), trace, *paths], check_status=0)
    commands = [["report", trace], ["report", trace, "--json"], ["report", trace, "--native"],
                ["verify", trace]]
    if run([ANALYZER, "html", "--help"]).returncode == 0:
        commands.append(["html", trace, "-o", work.file("hostile.html")])
    for cmd in commands:
        start = time.monotonic()
        # stdin: a pipe nobody writes to, as when the analyzer runs in a pipeline
        r, w = os.pipe()
        try:
            p = subprocess.run([ANALYZER, *cmd], stdin=r, capture_output=True, timeout=60)
        finally:
            os.close(r)
            os.close(w)
        took = time.monotonic() - start
        check_eq(p.returncode, 0, f"{' '.join(cmd[:1] + cmd[2:])}: status ({p.stderr[-500:]!r})")
        check(took < 30, f"{cmd[0]}: took {took:.1f} s")
    text = analyzer(["report", trace]).stdout.decode()
    check(f"{fifo}: not a regular file" in text, f"the report says the FIFO was not read:\n{text}")
    check("/dev/zero: not a regular file" in text, "the report says the device was not read")
    print(f"{len(commands)} commands over {len(paths)} hostile module paths: all finished")


main(test)
