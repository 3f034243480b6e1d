"""A clean program: threads started and joined, a queue, locks, conditions, events and a
thread pool; every thread finishes before the next round."""
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from clean_common import rounds


def work(r):
    q = queue.Queue()
    results = []
    lock = threading.Lock()
    done = threading.Event()

    def consumer():
        while True:
            item = q.get()
            if item is None:
                break
            with lock:
                results.append(item * 2)

    threads = [threading.Thread(target=consumer, name=f"consumer-{r}-{k}") for k in range(4)]
    for t in threads:
        t.start()
    for i in range(2000):
        q.put(i)
    for _ in threads:
        q.put(None)
    for t in threads:
        t.join()
    cond = threading.Condition()
    ready = []

    def waiter():
        with cond:
            cond.wait_for(lambda: ready)
        done.set()

    w = threading.Thread(target=waiter)
    w.start()
    with cond:
        ready.append(1)
        cond.notify_all()
    w.join()
    with ThreadPoolExecutor(max_workers=4) as pool:
        total = sum(pool.map(lambda x: x * x, range(500)))
    assert len(results) == 2000 and done.is_set()
    return total


rounds(work)
