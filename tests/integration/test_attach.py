"""refscope attach / snapshot / detach on running processes (argv[1] picks the scenario):

  python PY   a Python service (tests/pyprograms/attach_server.py) that leaks slowly and
              answers on a loopback port: attached, snapshotted twice, detached while a
              client pings it all along (no ping may fail); CPython's allocators and the
              GOT slot of malloc are refscope's while attached and back as they were after;
              the growing type and its chain from module __main__; the program then exits
              normally
  duration PY the one-command form: attach --duration with periodic snapshots
  native      a C program: the trace has the native allocations made after the attach and no
              Python records; the GOT is put back; the program exits normally
  refused     ptrace refused (refscope run as nobody against a root process): exit 2 and a
              one-line error naming ptrace_scope and CAP_SYS_PTRACE
  static      a statically linked program: exit 2, "statically linked", left untouched"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
from harness import *

SERVER = os.path.join(SOURCE, "tests", "pyprograms", "attach_server.py")


def refscope_json(*args):
    return json.loads(analyzer(list(args) + ["--json"]).stdout)


# ---- looking into the process ------------------------------------------------------------

def maps(pid):
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            out.append((lo, hi, int(parts[2], 16), parts[5].strip() if len(parts) > 5 else ""))
    return out


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True, check=True).stdout


def load_base(pid, path):
    """Load bias of a mapped ELF file (0 for a non-PIE executable)."""
    if "Type:                              EXEC" in readelf("-h", path):
        return 0
    return min(lo for lo, hi, off, p in maps(pid) if p == path and off == 0)


def got_slot(pid, path, symbol):
    """(address, value) of the GOT slot of `symbol` (JUMP_SLOT, or GLOB_DAT in -fno-plt code) in
    the mapped file `path`."""
    for line in readelf("-r", path).splitlines():
        f = line.split()
        if len(f) >= 5 and f[2].endswith(("JUMP_SLOT", "GLOB_DAT")) and f[4].split("@")[0] == symbol:
            addr = load_base(pid, path) + int(f[0], 16)
            with open(f"/proc/{pid}/mem", "rb") as mem:
                mem.seek(addr)
                return addr, int.from_bytes(mem.read(8), "little")
    raise TestFailure(f"no GOT slot for {symbol} in {path}")


def malloc_caller(pid):
    """The file whose calls to malloc matter: a libpython when there is one, else the executable."""
    exe = os.readlink(f"/proc/{pid}/exe")
    libpython = sorted({p for lo, hi, off, p in maps(pid) if os.path.basename(p).startswith("libpython3")})
    return libpython[0] if libpython else exe


def libc_function(pid, symbol):
    libc = next(p for lo, hi, off, p in maps(pid) if os.path.basename(p).startswith("libc.so"))
    for line in readelf("--dyn-syms", libc).splitlines():
        f = line.split()
        if len(f) >= 8 and f[3] == "FUNC" and f[7] in (f"{symbol}@@GLIBC_2.2.5", symbol):
            return load_base(pid, libc) + int(f[1], 16)
    raise TestFailure(f"{symbol} not found in {libc}")


def refscope_range(pid):
    rs = [(lo, hi) for lo, hi, off, p in maps(pid) if p.endswith("librefscope.so")]
    return (min(r[0] for r in rs), max(r[1] for r in rs)) if rs else (0, 0)


def thread_names(pid):
    names = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except FileNotFoundError:
            pass
    return names


def check_no_refscope_threads(pid, threads_before, when):
    """The service starts a short-lived thread per connection (the pinger's among them),
    so the list is compared without those: refscope's threads must be gone."""
    after = thread_names(pid)
    check(not any(n.startswith("refscope") for n in after),
          f"refscope's threads ended {when}: {after} (before the attach: {threads_before})")


def quit_target(proc):
    """attach_target exits on "q", after checking every block it kept is intact."""
    proc.stdin.write(b"q\n")
    proc.stdin.close()
    check_eq(proc.wait(timeout=30), 0, "the program's exit status")
    check(proc.stdout.read().startswith(b"kept "), "the program checked its blocks")


def open_files(pid):
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return out


# ---- the Python service --------------------------------------------------------------------

def ask(port, command):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(command.encode() + b"\n")
        return s.makefile("rb").readline().decode().strip()


class Pinger(threading.Thread):
    """Pings the service all along: one connection, a new one every 25 pings."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.done = threading.Event()
        self.count = 0
        self.failures = []
        self.worst = 0.0

    def run(self):
        conn = None
        while not self.done.is_set():
            try:
                if conn is None or self.count % 25 == 0:
                    if conn:
                        conn.close()
                    conn = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    f = conn.makefile("rwb", buffering=0)
                t = time.monotonic()
                f.write(b"ping\n")
                answer = f.readline()
                self.worst = max(self.worst, time.monotonic() - t)
                if answer != b"pong\n":
                    self.failures.append(f"ping {self.count}: answer {answer!r}")
                    conn = None
            except OSError as e:
                self.failures.append(f"ping {self.count}: {e}")
                conn = None
            self.count += 1
            time.sleep(0.02)
        if conn:
            conn.close()

    def finish(self):
        self.done.set()
        self.join(timeout=30)
        check(not self.failures, f"pings failed: {self.failures[:5]}")
        check(self.count > 50, f"only {self.count} pings were made")
        print(f"{self.count} pings, none failed; slowest answer {self.worst * 1000:.0f} ms")


def start_server(py):
    proc = subprocess.Popen([py, SERVER], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    port = int(proc.stdout.readline())
    return proc, port


def end_server(proc, port):
    check_eq(ask(port, "quit"), "bye", "the service's answer to quit")
    try:
        status = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise TestFailure("the service did not exit after quit")
    check_eq(status, 0, f"the service's exit status (stderr: {proc.stderr.read().decode()[-500:]})")


def python_service(work, py):
    proc, port = start_server(py)
    pid = proc.pid
    try:
        pinger = Pinger(port)
        pinger.start()
        time.sleep(0.6)  # Sessions that exist before the attach
        exe = malloc_caller(pid)
        alloc_before = ask(port, "alloc")
        libc_malloc = libc_function(pid, "malloc")
        check_eq(got_slot(pid, exe, "malloc")[1], libc_malloc, "malloc's GOT slot before the attach")
        threads_before = thread_names(pid)

        trace = work.file("service.rsc")
        t = time.monotonic()
        p = run([REFSCOPE, "attach", str(pid), "--no-wait", "-o", trace], timeout=120, check_status=0)
        print(f"attach took {time.monotonic() - t:.2f} s")
        err = p.stderr.decode()
        check("snapshot 1 taken" in err, f"attach took its first snapshot: {err}")
        check_eq(ask(port, "env"), "-", "the process's environment after the attach (put back)")
        alloc_during = ask(port, "alloc")
        check(alloc_during != alloc_before, "CPython's allocators are refscope's while attached")
        lo, hi = refscope_range(pid)
        check(lo <= got_slot(pid, exe, "malloc")[1] < hi, "malloc's GOT slot leads to refscope while attached")
        check(any(n.startswith("refscope") for n in thread_names(pid)), "refscope's threads run while attached")

        time.sleep(1.5)
        p = run([REFSCOPE, "snapshot", str(pid), "--label", "later"], timeout=120, check_status=0)
        check("snapshot 2" in p.stderr.decode(), f"the second snapshot: {p.stderr.decode()}")
        p = run([REFSCOPE, "detach", str(pid)], timeout=120, check_status=0)
        check("Python allocators restored" in p.stderr.decode(), f"detach says what it restored: {p.stderr.decode()}")

        # as it was
        check_eq(ask(port, "alloc"), alloc_before, "CPython's allocators after detach")
        check_eq(got_slot(pid, exe, "malloc")[1], libc_malloc, "malloc's GOT slot after detach")
        check_no_refscope_threads(pid, threads_before, "after detach")
        check(trace not in open_files(pid), "the trace file is closed after detach")
        size = os.path.getsize(trace)
        time.sleep(0.5)
        check_eq(os.path.getsize(trace), size, "trace size after detach (nothing more recorded)")
        run([REFSCOPE, "detach", str(pid)], check_status=1)  # no session any more

        # attached again: the library is loaded already, a new session starts in it
        trace2 = work.file("service-again.rsc")
        p = run([REFSCOPE, "attach", str(pid), "--no-wait", "-o", trace2], timeout=120, check_status=0)
        check("new session" in p.stderr.decode(), f"attach says it starts a new session: {p.stderr.decode()}")
        check(ask(port, "alloc") != alloc_before, "CPython's allocators are refscope's again")
        time.sleep(1.0)
        run([REFSCOPE, "snapshot", str(pid)], timeout=120, check_status=0)
        run([REFSCOPE, "detach", str(pid)], timeout=120, check_status=0)
        check_eq(ask(port, "alloc"), alloc_before, "CPython's allocators after the second detach")
        check_eq(got_slot(pid, exe, "malloc")[1], libc_malloc, "malloc's GOT slot after the second detach")
        check_no_refscope_threads(pid, threads_before, "after the second detach")

        pinger.finish()
        sessions = int(ask(port, "count"))
        oldest = ask(port, "first")  # made before the attach
        end_server(proc, port)
    finally:
        if proc.poll() is None:
            proc.kill()

    # the trace
    r = report(trace)
    check_eq(r["trace"]["status"], "complete", "trace status")
    check_eq(r["trace"]["end_reason"], "detach", "END reason")
    check(r["program"]["flags"] & 4, "header flag: attached")
    check(r["python"] is not None, "the trace has Python records")
    g = refscope_json("growth", trace, "--from", "1", "--to", "2")
    top = [t["name"] for t in g["types"][:3]]  # with its payload list (and __dict__ before 3.11)
    check("__main__.Session" in top, f"Session among the types that grew most: {top}")
    grew = next(t["count_change"] for t in g["types"] if t["name"] == "__main__.Session")
    check(20 <= grew <= sessions, f"Sessions grew by {grew} between the snapshots (1.5 s, one per 50 ms)")
    check(any(s["site"]["function"] == "leak" and s["count_change"] == grew for s in g["sites"]),
          "the leak() line is the growing site")
    t = refscope_json("types", trace, "--snapshot", "1", "--top", "0")
    check(any(x["name"] == "__main__.Session" and x["count"] >= 5 for x in t["types"]),
          "Sessions made before the attach are in the first snapshot")
    # The oldest Session, by address: which Session `--type` leads to is the graph's choice,
    # and a snapshot taken while the leaker thread is inside Session() finds the new one
    # closest, held by that frame.
    for snapshot in ("1", "2"):
        b = refscope_json("backrefs", trace, "--addr", oldest, "--snapshot", snapshot)
        check(b["found"], f"a chain from a root to the oldest Session in snapshot {snapshot}")
        chain = b["chain"]
        check_eq([n["type"] for n in chain],
                 ["builtins.module", "builtins.dict", "builtins.list", "__main__.Session"], "chain types")
        check_eq(chain[0]["label"], "__main__", "the root is module __main__")
        check_eq(chain[2]["edge"]["text"], "sessions", "the global's name labels the edge into the list")
        check_eq(chain[3]["edge"]["index"], 0, "the list's index labels the edge into the Session")
        check_eq(chain[3]["site"]["text"], "(before attach)", "the site of a Session made before the attach")
    b = refscope_json("backrefs", trace, "--type", "__main__.Session")
    check(b["found"] and b["chain"][-1]["site"]["text"] in ("(before attach)", "attach_server.py:33 leak"),
          f"the site of the Session closest to a root: {b['chain'][-1]['site']['text']}")
    text = analyzer(["backrefs", trace, "--type", "__main__.Session"]).stdout.decode()
    print(text)
    # the second session's trace stands alone
    r = report(trace2)
    check_eq(r["trace"]["end_reason"], "detach", "END reason of the second trace")
    g = refscope_json("growth", trace2, "--from", "1", "--to", "2")
    grew = next((t["count_change"] for t in g["types"] if t["name"] == "__main__.Session"), 0)
    check(10 <= grew, f"Sessions grew by {grew} between the second session's snapshots")


def python_duration(work, py):
    proc, port = start_server(py)
    try:
        pinger = Pinger(port)
        pinger.start()
        time.sleep(0.3)
        trace = work.file("duration.rsc")
        p = run([REFSCOPE, "attach", str(proc.pid), "--duration", "2", "--snapshot-every", "0.5",
                 "-o", trace], timeout=120, check_status=0)
        err = p.stderr.decode()
        check("detached from process" in err and "trace written to" in err, f"attach's account: {err}")
        pinger.finish()
        end_server(proc, port)
    finally:
        if proc.poll() is None:
            proc.kill()
    g = refscope_json("growth", trace)
    check(g["snapshots"] >= 4 if isinstance(g["snapshots"], int) else len(g["snapshots"]) >= 4,
          f"attach, every 0.5 s, detach: at least 4 snapshots ({g['snapshots']})")
    check(any(s["name"] == "__main__.Session" for s in g["suspects"]), "Session flagged as growing steadily")


def native(work):
    proc = subprocess.Popen([program("attach_target")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        check_eq(proc.stdout.readline(), b"ready\n", "the program started")
        time.sleep(0.3)
        exe = os.readlink(f"/proc/{proc.pid}/exe")
        libc_malloc = libc_function(proc.pid, "malloc")
        check_eq(got_slot(proc.pid, exe, "malloc")[1], libc_malloc, "malloc's GOT slot before the attach")
        trace = work.file("native.rsc")
        p = run([REFSCOPE, "attach", str(proc.pid), "--duration", "1.5", "-o", trace], timeout=120,
                check_status=0)
        err = p.stderr.decode()
        check("native-only" in err, f"attach says the trace is native-only: {err}")
        check_eq(got_slot(proc.pid, exe, "malloc")[1], libc_malloc, "malloc's GOT slot after detach")
        # and again, in the library loaded already
        trace2 = work.file("native-again.rsc")
        run([REFSCOPE, "attach", str(proc.pid), "--duration", "0.5", "-o", trace2], timeout=120,
            check_status=0)
        check_eq(got_slot(proc.pid, exe, "malloc")[1], libc_malloc, "malloc's GOT slot after the second detach")
        time.sleep(0.2)
        quit_target(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    r = report(trace)
    check_eq(r["trace"]["end_reason"], "detach", "END reason")
    check(r["python"] is None, "no Python records")
    check(r["program"]["flags"] & 4, "header flag: attached")
    ev = r["events"]
    check(ev["allocations"] >= 200, f"allocations recorded after the attach ({ev['allocations']})")
    grow = find_stacks(r["leaked"], function="grow_cache")
    check(grow and 50 <= grow[0]["blocks"] <= 200, f"grow_cache's blocks live at detach: {[s['blocks'] for s in grow]}")
    churn = find_stacks(r["leaked"], function="churn")
    check(not churn, "churn's blocks were all freed")
    r2 = report(trace2)
    check_eq(r2["trace"]["end_reason"], "detach", "END reason of the second trace")
    grow = find_stacks(r2["leaked"], function="grow_cache")
    check(grow and 10 <= grow[0]["blocks"] <= 80, f"the second trace's grow_cache blocks: {[s['blocks'] for s in grow]}")


def refused(work):
    import shutil
    # nobody must be able to run refscope and read its library
    for path in (REFSCOPE, LIB):
        d = os.path.dirname(path)
        while d != "/":
            if not os.stat(d).st_mode & 0o005:
                print(f"skipped: {d} is not readable by nobody")
                return
            d = os.path.dirname(d)
    if not shutil.which("setpriv"):
        print("skipped: no setpriv")
        return
    proc = subprocess.Popen(["sleep", "60"])
    try:
        p = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", REFSCOPE, "attach",
                 str(proc.pid), "-o", "/tmp/never.rsc"], timeout=60)
        err = p.stderr.decode()
        check_eq(p.returncode, 2, f"exit status of a refused attach (stderr: {err})")
        check_eq(err.count("\n"), 1, f"one line: {err!r}")
        for word in ("ptrace", "ptrace_scope", "CAP_SYS_PTRACE"):
            check(word in err, f"the error names {word}: {err}")
        check(proc.poll() is None, "the process is untouched")
        print(err.strip())
    finally:
        proc.kill()
        proc.wait()


def static(work):
    proc = subprocess.Popen([program("static_target")], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        check_eq(proc.stdout.readline(), b"ready\n", "the program started")
        p = run([REFSCOPE, "attach", str(proc.pid), "-o", work.file("static.rsc")], timeout=60)
        err = p.stderr.decode()
        check_eq(p.returncode, 2, f"exit status (stderr: {err})")
        check("statically linked" in err and err.count("\n") == 1, f"one line saying why: {err!r}")
        proc.stdin.write(b"q\n")
        proc.stdin.close()
        check_eq(proc.wait(timeout=30), 0, "the program's exit status")
        print(err.strip())
    finally:
        if proc.poll() is None:
            proc.kill()


def preloaded(work):
    """A process refscope traces since it started cannot be attached to: one clear line,
    and the program and its own trace go on untouched."""
    own = work.file("preloaded-own.rsc")
    env = dict(os.environ, LD_PRELOAD=LIB, REFSCOPE_OUTPUT=own)
    proc = subprocess.Popen([program("attach_target")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        check_eq(proc.stdout.readline(), b"ready\n", "the program started")
        p = run([REFSCOPE, "attach", str(proc.pid), "--duration", "0.5", "-o", work.file("never.rsc")],
                timeout=120)
        err = p.stderr.decode()
        check_eq(p.returncode, 2, f"exit status of the refused attach (stderr: {err})")
        check("refscope run or LD_PRELOAD" in err and err.count("\n") == 1, f"one line saying why: {err!r}")
        check(not os.path.exists(work.file("never.rsc")), "no second trace")
        print(err.strip())
        quit_target(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    r = report(own)
    check_eq(r["trace"]["end_reason"], "exit", "the program's own trace ends normally")
    check(find_stacks(r["leaked"], function="grow_cache"), "and holds its blocks")


SCENARIOS = {
    "python": lambda w: python_service(w, sys.argv[2]),
    "duration": lambda w: python_duration(w, sys.argv[2]),
    "native": native,
    "refused": refused,
    "static": static,
    "preloaded": preloaded,
}

if __name__ == "__main__":
    main(SCENARIOS[sys.argv[1]])
