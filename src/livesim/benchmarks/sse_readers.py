"""Many SSE readers in a process of their own: one epoll loop, no event-loop library.

At 10,000 streams the readers are a real share of a 2-core machine, so they run
apart from the benchmark's trio process (its NOTIFY listener stamps the commits)
and cost as little as Python allows: a non-blocking socket each, one ``select``
for all, a regex for the ``id:`` lines.  Arrival times are ``time.monotonic()``,
which on Linux is the system-wide CLOCK_MONOTONIC, so they compare with the
benchmark's own stamps.

    python -m livesim.benchmarks.sse_readers --ports 8001,8002 --path /s --count N --out F

It prints ``connected`` once every stream has its first byte (the server has taken
the request), then reads until every stream has ended (chunked encoding's last
chunk) or ``--timeout`` passes, and pickles a :class:`Readings` to ``--out``.
"""

from __future__ import annotations

import argparse
import pickle
import re
import resource
import selectors
import socket
import sys
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

# Streams waiting for their first byte at once: the servers' accept queues are short,
# and a dropped SYN costs a one-second retry.
CONNECTING_AT_ONCE = 200
RECEIVE_BYTES = 262_144
ID_LINE = re.compile(rb"\nid: (\d+)\n")
# chunked encoding's last chunk: the response is over (hypercorn keeps the socket open
# after it even with ``Connection: close``); SSE lines end in ``\n`` alone, so it cannot
# occur inside the body
LAST_CHUNK = b"\r\n0\r\n\r\n"


@dataclass
class Stream:
    sock: socket.socket
    arrivals: dict[int, array[float]]  # its server's, by id
    tail: bytes = b""  # from the last newline read: an id line may be cut there
    end_window: bytes = b""  # the last bytes read, for the last chunk
    count: int = 0  # ids read
    first: int = 0
    last: int = 0
    in_order: bool = True  # each id one more than the one before
    started: bool = False
    ended: bool = False


@dataclass
class Readings:
    """What the readers saw: per stream (ids, first, last, in order), and when each id
    arrived at each stream, by server port, then by id."""

    connect_s: float = 0.0
    streams: list[tuple[int, int, int, bool]] = field(default_factory=list)
    arrivals: dict[int, dict[int, array[float]]] = field(default_factory=dict)

    def complete(self, last_seq: int) -> int:
        """How many streams read every id from 1 to ``last_seq``, in order, once."""
        return sum(count == last_seq and first == 1 and last == last_seq and in_order
                   for count, first, last, in_order in self.streams)


def _open(port: int, path: str, user: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Dev-User: {user}\r\n"
                 "Accept: text/event-stream\r\nConnection: close\r\n\r\n".encode())
    sock.setblocking(False)
    return sock


def _take(stream: Stream, data: bytes, now: float) -> None:
    buffer = stream.tail + data
    for match in ID_LINE.finditer(buffer):
        seq = int(match.group(1))
        if stream.count:
            stream.in_order = stream.in_order and seq == stream.last + 1
        else:
            stream.first = seq
        stream.count += 1
        stream.last = seq
        times = stream.arrivals.get(seq)
        if times is None:
            times = stream.arrivals[seq] = array("d")
        times.append(now)
    # an id split across reads is found whole next time; one already counted is not
    # (its line ends before the tail starts)
    cut = buffer.rfind(b"\n")
    stream.tail = buffer[cut:] if cut >= 0 else buffer
    stream.end_window = (stream.end_window + data)[-len(LAST_CHUNK):]
    stream.ended = stream.end_window == LAST_CHUNK


def read_streams(ports: list[int], path: str, count: int, user: str,
                 timeout_s: float) -> Readings:
    readings = Readings(arrivals={port: {} for port in ports})
    selector = selectors.EpollSelector()
    streams: list[Stream] = []
    waiting_first = 0
    started = time.monotonic()
    deadline = None  # set once all are connected
    while True:
        while len(streams) < count and waiting_first < CONNECTING_AT_ONCE:
            port = ports[len(streams) % len(ports)]
            stream = Stream(_open(port, path, user), readings.arrivals[port])
            selector.register(stream.sock, selectors.EVENT_READ, stream)
            streams.append(stream)
            waiting_first += 1
        if deadline is None and len(streams) == count and waiting_first == 0:
            readings.connect_s = time.monotonic() - started
            deadline = time.monotonic() + timeout_s
            print("connected", flush=True)
        if not selector.get_map() or (deadline is not None and time.monotonic() > deadline):
            break
        for key, _ in selector.select(1.0):
            stream = key.data
            data = stream.sock.recv(RECEIVE_BYTES)
            now = time.monotonic()
            if not stream.started:
                stream.started = True
                waiting_first -= 1
            if data:
                _take(stream, data, now)
            if not data or stream.ended:
                selector.unregister(stream.sock)
                stream.sock.close()
    for stream in streams:
        readings.streams.append((stream.count, stream.first, stream.last, stream.in_order))
    return readings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", required=True, help="comma-separated; streams spread evenly")
    parser.add_argument("--path", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--user", default="bench")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to read after all are connected")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # through the module's import name, so the pickle names a class the reader finds
    from livesim.benchmarks import sse_readers

    readings = sse_readers.read_streams([int(port) for port in args.ports.split(",")],
                                        args.path, args.count, args.user, args.timeout)
    args.out.write_bytes(pickle.dumps(readings))
    sys.exit(0)


if __name__ == "__main__":
    main()
