"""Run the same action from many threads released at the same instant, each with its own database connection."""
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def run_concurrently(count: int, action) -> list:
    """`action(index)` in `count` threads that start together; returns their results (in finishing order)."""
    results = []
    barrier = threading.Barrier(count)

    def worker(index):
        try:
            barrier.wait()
            results.append(action(index))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def close_thread_connections(pool: ThreadPoolExecutor, workers: int) -> None:
    """Each pool thread has its own connection, kept from one request to its next (as a server's worker keeps it):
    opening one per request cost more than the requests. Close them all now, each in its own thread: the barrier
    holds every close until all `workers` run at once, so each thread gets exactly one."""
    barrier = threading.Barrier(workers)

    def close(_) -> None:
        barrier.wait(timeout=60)
        connection.close()

    list(pool.map(close, range(workers)))


def run_pooled(action, items, *, workers: int = 16) -> list:
    """`action(item)` for every item, `workers` at a time (more callers than the database takes connections);
    returns the results in the items' order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            return list(pool.map(action, items))
        finally:
            close_thread_connections(pool, workers)
