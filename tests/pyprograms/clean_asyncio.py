"""A clean program: asyncio.run of tasks, gather, a queue, timeouts, cancellation and a
TCP echo server on the loopback interface; each round runs its own event loop."""
import asyncio
from clean_common import rounds


async def echo(reader, writer):
    while True:
        data = await reader.readline()
        if not data:
            break
        writer.write(data.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(port, n):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in range(n):
        writer.write(f"line {i}\n".encode())
        await writer.drain()
        await reader.readline()
    writer.close()
    await writer.wait_closed()


async def producer_consumer():
    q = asyncio.Queue()

    async def consume():
        total = 0
        while True:
            item = await q.get()
            if item is None:
                return total
            total += item

    task = asyncio.create_task(consume())
    for i in range(1000):
        await q.put(i)
    await q.put(None)
    return await task


async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await asyncio.gather(*(client(port, 50) for _ in range(5)))
    server.close()
    await server.wait_closed()
    await producer_consumer()
    sleeper = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    sleeper.cancel()
    try:
        await sleeper
    except asyncio.CancelledError:
        pass
    try:
        await asyncio.wait_for(asyncio.sleep(10), timeout=0.01)
    except asyncio.TimeoutError:
        pass
    await asyncio.gather(*(asyncio.sleep(0.001) for _ in range(200)))


def work(r):
    asyncio.run(main())


rounds(work)
