"""Time GET /healthz every 20 ms until stdin closes; print the latencies (ms) as JSON.

Run as its own process by the slow-client test, so the timing is the server's and not
the test process's own busy loop (it parses hundreds of thousands of SSE events).
"""

from __future__ import annotations

import http.client
import json
import select
import sys
import time


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    latencies: list[float] = []
    while not select.select([sys.stdin], [], [], 0.02)[0]:
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/healthz")
        status = connection.getresponse().status
        connection.close()
        if status != 200:
            raise SystemExit(f"/healthz answered {status}")
        latencies.append((time.perf_counter() - started) * 1000)
    print(json.dumps(latencies))


if __name__ == "__main__":
    main()
