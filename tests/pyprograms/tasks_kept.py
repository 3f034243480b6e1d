"""asyncio tasks kept in a module-level set that is never pruned, with one event loop per
round (asyncio.run): the tasks, their coroutines and contexts grow by 300 a round, and the
sets grow by a few (each loop's weak sets) while one of them holds every task."""
import asyncio

import refscope

background = set()


class Job:
    def __init__(self, n):
        self.n = n


async def run(job):
    return job.n


async def main():
    for i in range(300):
        background.add(asyncio.ensure_future(run(Job(i))))  # TASK
    await asyncio.sleep(0)
    await asyncio.sleep(0)


asyncio.run(main())
refscope.snapshot("warm-up")
for r in range(1, 5):
    asyncio.run(main())
    refscope.snapshot(f"round {r}")
