"""`refscope run --check` on Python programs (argv[1]): a leaking program that succeeds
exits 1, a clean one 0, and a program's own failure (exit status, or death by a signal)
wins over the check's verdict."""
import signal
import sys
from check_util import *

PY = sys.argv[1]


def test(work):
    leak = example("cache_leak.py")
    clean = os.path.join(PYPROGRAMS, "clean_json.py")
    _, res, _ = run_check(work, [PY, leak], "leak0", status=1)
    check_eq(failed(res), ["growth"], "the leak is found")
    run_check(work, [PY, clean], "clean0", status=0)
    # a program that leaks, then exits with the status it is given
    leaky = work.file("leaky.py")
    with open(leaky, "w") as f:
        f.write("import sys\n_kept = []\n\n\nclass Item:\n    pass\n\n\n"
                "def work():\n    for i in range(500):\n        _kept.append(Item())\n\n\n"
                "work()\nsys.exit(int(sys.argv[1]))\n")
    _, res, _ = run_check(work, [PY, leaky, "3"], "leak3", status=3)
    check_eq(res["verdict"], "fail", "the check still ran and found the leak")
    check_eq(failed(res), ["growth"], "the leak it found")
    _, res, _ = run_check(work, [PY, leaky, "0"], "leak0b", status=1)
    run_check(work, [PY, "-c", "import json, sys; json.dumps([1]); sys.exit(4)"], "clean4", status=4)
    trace = work.file("killed.rsc")
    p = run([REFSCOPE, "run", "-q", "-f", "-o", trace, "--check", "--", PY, "-c",
             "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"])
    check_eq(p.returncode, -signal.SIGTERM, "refscope dies of the program's signal")


main(test)
