"""A service that leaks slowly, for `refscope attach`: a thread appends a Session to the
global list `sessions` every 50 ms, and a TCP server on a loopback port answers one command
per line, on any number of connections at once:

    ping    -> pong
    alloc   -> CPython's allocators of the PyMem and PyObject domains, "ctx:malloc ctx:malloc"
               (PyMem_GetAllocator, through ctypes), so a test sees them hooked and restored
    count   -> the number of sessions
    env     -> REFSCOPE_* variables in the C environment (getenv, through ctypes): "-" if none
    quit    -> bye; the program then ends normally (status 0)

It prints its port on stdout, then runs until told to quit. It knows nothing of refscope."""
import ctypes
import socket
import sys
import threading
import time


class Session:  # the growing type
    def __init__(self, n):
        self.n = n
        self.payload = [n] * 4


sessions = []
stop = threading.Event()


def leak():
    n = 0
    while not stop.is_set():
        sessions.append(Session(n))
        n += 1
        time.sleep(0.05)


class PyMemAllocatorEx(ctypes.Structure):
    _fields_ = [("ctx", ctypes.c_void_p), ("malloc", ctypes.c_void_p), ("calloc", ctypes.c_void_p),
                ("realloc", ctypes.c_void_p), ("free", ctypes.c_void_p)]


get_allocator = ctypes.pythonapi.PyMem_GetAllocator
get_allocator.argtypes = [ctypes.c_int, ctypes.POINTER(PyMemAllocatorEx)]
get_allocator.restype = None


def allocators():
    out = []
    for domain in (1, 2):  # PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ
        a = PyMemAllocatorEx()
        get_allocator(domain, ctypes.byref(a))
        out.append("%x:%x" % (a.ctx or 0, a.malloc or 0))
    return " ".join(out)


libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p


def refscope_env():
    names = [n for n in ("REFSCOPE_ATTACH", "REFSCOPE_OUTPUT") if libc.getenv(n.encode())]
    return " ".join(names) or "-"


def serve(conn):
    with conn, conn.makefile("rwb", buffering=0) as f:
        for line in f:
            cmd = line.strip()
            if cmd == b"ping":
                f.write(b"pong\n")
            elif cmd == b"alloc":
                f.write(allocators().encode() + b"\n")
            elif cmd == b"env":
                f.write(refscope_env().encode() + b"\n")
            elif cmd == b"count":
                f.write(b"%d\n" % len(sessions))
            elif cmd == b"first":  # the oldest Session's address (CPython's id)
                f.write(b"%#x\n" % id(sessions[0]))
            elif cmd == b"quit":
                f.write(b"bye\n")
                stop.set()
                return
            else:
                f.write(b"?\n")


def main():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    threading.Thread(target=leak, name="leaker", daemon=True).start()
    print(srv.getsockname()[1], flush=True)
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        conn.settimeout(None)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
    srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
