"""Programs behave the same with and without refscope: output, stdin, errno, signals,
threads, fork, exec, abort, exit status; also programs nobody here wrote, and one whose own
functions have the names of refscope's internals."""
from harness import *

CASES = [
    [program("transparency"), "arg1"],
    [program("same_names")],
    ["/bin/sh", "-c", "echo hello; ls / | sort | head -3; exit 7"],
    ["/usr/bin/sort", "-r"],
    ["/usr/bin/env", "-u", "LD_PRELOAD", "/bin/true"],
    ["/usr/bin/python3", "-c", "import sys, os; print(sum(range(10**5)), sys.argv); sys.exit(3)"],
]


def test(work):
    stdin = b"line from stdin\nzz\naa\n"
    env = dict(os.environ, TRANSPARENCY_VALUE="kept")
    for i, cmd in enumerate(CASES):
        plain = run(cmd, input=stdin, env=env)
        out = work.file(f"c{i}.rsc")
        under = run([REFSCOPE, "run", "-q", "-o", out, "--", *cmd], input=stdin, env=env)
        check_eq(under.returncode, plain.returncode, f"{cmd}: exit status")
        check_eq(under.stdout, plain.stdout, f"{cmd}: stdout")
        check_eq(under.stderr, plain.stderr, f"{cmd}: stderr")
        check(os.path.exists(out), f"{cmd}: trace written")
    # a ring of 1,024 events fills at once: frees wait for the writer (errno kept, above)
    small = dict(env, REFSCOPE_RING_EVENTS="1024")
    plain = run([program("transparency"), "arg1"], input=stdin, env=small)
    under = run([REFSCOPE, "run", "-q", "-o", work.file("small-ring.rsc"), "--", program("transparency"), "arg1"],
                input=stdin, env=small)
    check_eq((under.returncode, under.stdout, under.stderr), (plain.returncode, plain.stdout, plain.stderr),
             "a small ring: status, stdout, stderr")
    waits = run([REFSCOPE, "report", work.file("small-ring.rsc")]).stdout.decode()
    check("waited" in waits, f"the small ring was found full: {waits[:300]}")
    # a program killed by a signal: same signal seen by the caller
    plain = run(["/bin/sh", "-c", "kill -TERM $$"])
    under = run([REFSCOPE, "run", "-q", "-o", work.file("sig.rsc"), "--", "/bin/sh", "-c", "kill -TERM $$"])
    check_eq(under.returncode, plain.returncode, "status of a program killed by SIGTERM")
    # LD_PRELOAD set by hand, as the README shows
    env2 = dict(env, LD_PRELOAD=LIB, REFSCOPE_OUTPUT=work.file("direct-%p.rsc"))
    direct = run([program("transparency"), "arg1"], input=stdin, env=env2)
    plain = run([program("transparency"), "arg1"], input=stdin, env=env)
    check_eq((direct.returncode, direct.stdout, direct.stderr), (plain.returncode, plain.stdout, plain.stderr),
             "LD_PRELOAD by hand: status, stdout, stderr")
    check(traces_in(work, "direct-*.rsc"), "LD_PRELOAD by hand wrote a trace")


main(test)
