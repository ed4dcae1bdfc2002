"""Run the same action from many threads released at the same instant, each with its own database connection."""
import threading

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
