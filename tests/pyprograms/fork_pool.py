"""multiprocessing Pool (fork start method), a thread, and an os.fork child ending in
os._exit: every process must leave a complete trace."""
import multiprocessing as mp
import os
import sys
import threading

leak = []


def work(n):
    leak.append(bytearray(n % 50 + 1))  # POOL ALLOC
    return sum(range(n))


def spin():
    for i in range(2000):
        leak.append([i] * 3)


if __name__ == "__main__":
    t = threading.Thread(target=spin, name="spinner")
    t.start()
    t.join()
    pool = mp.get_context("fork").Pool(3)
    print(sum(pool.map(work, range(300))))
    pool.close()  # workers end in os._exit (terminate() would kill them with SIGTERM)
    pool.join()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        leak.append(bytearray(12345))  # CHILD ALLOC
        os._exit(4)
    _, status = os.waitpid(pid, 0)
    print("child status", os.WEXITSTATUS(status))
