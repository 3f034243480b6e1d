"""Trace files never follow a symbolic link nor overwrite an existing file unless asked, and
are created with mode 0600 whatever the umask. Checked for the shim (LD_PRELOAD with
REFSCOPE_OUTPUT: an existing file, a symbolic link to a victim file, a dangling link; a
fork child's own trace), for `refscope run -o` (refuses an existing file or link
unless --force, and --force removes the link itself, never its target), and for the files
the analyzer writes with -o (never through a link, never into a FIFO, without hanging)."""
import stat
from rel import *

VICTIM = b"precious contents\n"


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def preload(work, output, prog=None):
    env = dict(os.environ, LD_PRELOAD=LIB, REFSCOPE_OUTPUT=output)
    return run([prog or program("secure_probe")], env=env, check_status=0)


def victim(work, name):
    path = work.file(name)
    with open(path, "wb") as f:
        f.write(VICTIM)
    os.chmod(path, 0o644)
    return path


def unchanged(path, what):
    with open(path, "rb") as f:
        check_eq(f.read(), VICTIM, f"{what}: the file's contents")
    check_eq(mode_of(path), 0o644, f"{what}: the file's mode")


def regular_0600(path, what):
    st = os.lstat(path)
    check(stat.S_ISREG(st.st_mode), f"{what}: {path} is a regular file")
    check_eq(stat.S_IMODE(st.st_mode), 0o600, f"{what}: mode of {path}")
    report(path)  # and a readable trace


def test(work):
    os.umask(0)  # the shim's 0600 must not depend on the umask

    # 1. REFSCOPE_OUTPUT names an existing file: left alone, a numbered file is made
    existing = victim(work, "existing.rsc")
    preload(work, existing)
    unchanged(existing, "existing file")
    regular_0600(work.file("existing.1.rsc"), "next to an existing file")

    # 2. a symbolic link to a victim: not written through
    target = victim(work, "victim.txt")
    link = work.file("link.rsc")
    os.symlink(target, link)
    preload(work, link)
    unchanged(target, "symlink target")
    check(os.path.islink(link) and os.readlink(link) == target, "the link is left as it was")
    regular_0600(work.file("link.1.rsc"), "next to a symlink")

    # 3. a dangling link: its target is not created
    dangling = work.file("dangling.rsc")
    os.symlink(work.file("created-through-link"), dangling)
    preload(work, dangling)
    check(not os.path.exists(work.file("created-through-link")), "no file made through a dangling link")
    regular_0600(work.file("dangling.1.rsc"), "next to a dangling link")

    # 4. a fork child's trace: 0600 too
    out = work.file("forked.rsc")
    p = run([REFSCOPE, "run", "-q", "-o", out, "--", OTHER_PROGRAMS + "/fork_child_leak"],
            check_status=0)
    child = [f for f in traces_in(work, "forked.*.rsc")]
    check_eq(len(child), 1, "one child trace")
    for f in [out] + child:
        regular_0600(f, "refscope run traces")

    # 5. refscope run -o an existing file or a link: refused unless --force
    existing2 = victim(work, "existing2.rsc")
    p = run([REFSCOPE, "run", "-q", "-o", existing2, "--", "/bin/true"])
    check_eq(p.returncode, 2, "run -o existing file: refused")
    check(b"already exists" in p.stderr, f"run -o existing: says why ({p.stderr!r})")
    unchanged(existing2, "run -o existing file")
    p = run([REFSCOPE, "run", "-q", "-f", "-o", existing2, "--", "/bin/true"], check_status=0)
    regular_0600(existing2, "run -f -o existing file")
    target2 = victim(work, "victim2.txt")
    link2 = work.file("link2.rsc")
    os.symlink(target2, link2)
    p = run([REFSCOPE, "run", "-q", "-o", link2, "--", "/bin/true"])
    check_eq(p.returncode, 2, "run -o link: refused")
    unchanged(target2, "run -o link: target")
    p = run([REFSCOPE, "run", "-q", "-f", "-o", link2, "--", "/bin/true"], check_status=0)
    unchanged(target2, "run -f -o link: target")
    regular_0600(link2, "run -f -o link (the link replaced by the trace)")

    # 6. the analyzer's -o: never through a link, never into a FIFO
    py = work.file("snap.py")
    with open(py, "w") as f:
        f.write("class Node:\n    pass\nkeep = [Node() for _ in range(10)]\n")
    trace, _ = traced(work, ["/usr/bin/python3", py], name="py.rsc")
    target3 = victim(work, "victim3.dot")
    link3 = work.file("graph.dot")
    os.symlink(target3, link3)
    for out in (link3, link3[:-4] + ".svg"):
        if out.endswith(".svg"):
            os.symlink(target3, out)
        p = run([ANALYZER, "graph", trace, "--refs", "--type", "Node", "-o", out])
        check_eq(p.returncode, 1, f"graph -o {os.path.basename(out)} (a link): refused")
        check(b"symbolic link" in p.stderr, f"graph -o link: says why ({p.stderr!r})")
        unchanged(target3, f"graph -o {os.path.basename(out)}: link target")
    fifo = work.file("fifo.dot")
    os.mkfifo(fifo)
    p = run([ANALYZER, "graph", trace, "--refs", "--type", "Node", "-o", fifo], timeout=30)
    check_eq(p.returncode, 1, "graph -o FIFO: refused without waiting for a reader")
    existing4 = victim(work, "existing.dot")
    run([ANALYZER, "graph", trace, "--refs", "--type", "Node", "-o", existing4], check_status=0)
    with open(existing4, "rb") as f:
        check(f.read().startswith(b"digraph"), "graph -o an existing regular file: replaced")
    print("shim: existing file, symlink, dangling link, fork child: never written through, "
          "0600; run -o: refused unless --force; analyzer -o: no link, no FIFO")


main(test)
