"""The fan-out floor: SSE streams served with nothing of livesim in them.

What many streams cost on this machine before livesim adds anything, to read the
fan-out figures against.  A server process holds the streams open and writes each
the same bytes: ``--commits`` commits, one every ``--interval`` s, of
``--events-per-commit`` frames shaped like livesim's (an ``id:`` line, an event
type, ``--frame-bytes`` in all).  Two ways:

- ``hypercorn``: a bare ASGI app on hypercorn's trio worker, the server livesim runs
  on, minus Quart, the database and the fan-out;
- ``trio``: bare trio sockets writing chunked HTTP by hand, minus hypercorn too.

Either way a stream is a task that waits for the next commit and writes what it
lacks in one write, as livesim's streams do, and the cyclic GC is tuned as
livesim's server tunes it.  The commits start on SIGUSR1; after the last one every
stream ends, and the commit times (``time.monotonic()``) go to ``--out``, one per line.

    python -m livesim.benchmarks.fanout_floor --mode hypercorn --port 8001 --out F
"""

from __future__ import annotations

import argparse
import resource
import signal
import time
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import hypercorn.trio
import trio
from hypercorn.config import Config

from livesim.server import tune_gc


class Feed:
    """The commits so far; streams wait for the next."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.done = False
        self._changed = trio.Event()

    def publish(self, chunk: bytes, *, done: bool) -> None:
        self.chunks.append(chunk)
        self.done = done
        self._changed.set()
        self._changed = trio.Event()

    async def follow(self) -> AsyncIterator[bytes]:
        """Every commit's bytes, those that piled up while writing joined in one."""
        sent = 0
        while True:
            if sent == len(self.chunks):
                if self.done:
                    return
                await self._changed.wait()
                continue
            data = b"".join(self.chunks[sent:])
            sent = len(self.chunks)
            yield data


def commit_chunk(first_seq: int, events: int, frame_bytes: int) -> bytes:
    frames = []
    for seq in range(first_seq, first_seq + events):
        head = f"id: {seq}\nevent: candle_closed\ndata: "
        frames.append(head + "x" * max(1, frame_bytes - len(head) - 2) + "\n\n")
    return "".join(frames).encode()


async def run_commits(feed: Feed, args: argparse.Namespace, times: list[float]) -> None:
    with trio.open_signal_receiver(signal.SIGUSR1) as signals:
        async for _ in signals:
            break
    for commit in range(args.commits):
        if commit:
            await trio.sleep(args.interval)
        times.append(time.monotonic())
        feed.publish(commit_chunk(1 + commit * args.events_per_commit, args.events_per_commit,
                                  args.frame_bytes), done=commit == args.commits - 1)
    # written before the streams can have read the last commit
    args.out.write_text("".join(f"{t!r}\n" for t in times))


def asgi_app(feed: Feed) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        async for data in feed.follow():
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    return app


async def serve_hypercorn(feed: Feed, port: int, *,
                          task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED
                          ) -> None:
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    await hypercorn.trio.serve(asgi_app(feed), config, task_status=task_status)


async def serve_trio(feed: Feed, port: int, *,
                     task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
    async def handle(stream: trio.SocketStream) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += await stream.receive_some(4096)
        await stream.send_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                              b"transfer-encoding: chunked\r\n\r\n")
        async for data in feed.follow():
            await stream.send_all(b"%x\r\n%b\r\n" % (len(data), data))
        await stream.send_all(b"0\r\n\r\n")
        await trio.sleep_forever()  # as hypercorn: the client closes

    await trio.serve_tcp(handle, port, host="127.0.0.1", task_status=task_status)


async def main_async(args: argparse.Namespace) -> None:
    feed = Feed()
    serve = serve_hypercorn if args.mode == "hypercorn" else serve_trio
    async with trio.open_nursery() as nursery:
        await nursery.start(serve, feed, args.port)
        tune_gc()  # as livesim's server, once bound and before any stream is served
        await run_commits(feed, args, [])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("hypercorn", "trio"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--commits", type=int, default=30)
    parser.add_argument("--events-per-commit", type=int, default=2)
    parser.add_argument("--frame-bytes", type=int, default=220)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    trio.run(partial(main_async, args))


if __name__ == "__main__":
    main()
