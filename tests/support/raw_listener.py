"""A raw TCP listener on loopback that is not an HTTP server: it counts connections and
answers each with fixed bytes (nothing at all, or garbage that is not HTTP), then closes.

Runs asyncio in a thread of its own, so tests that drive the notifier from their own
event loop (or from a worker process) see a real socket. It listens on 127.0.0.1 and,
where the machine has IPv6 loopback, on ::1 at the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

GARBAGE = b"\x16\x03\x01 this is not HTTP \xff\xfe\r\n\r\n"


def _free_port_on_both() -> tuple[int, list[str]]:
    """A port free on 127.0.0.1 and (if the machine has it) on ::1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as v4:
            v4.bind(("127.0.0.1", 0))
            port = int(v4.getsockname()[1])
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as v6:
                v6.bind(("::1", port))
        except OSError as exc:
            if exc.errno == 98:  # EADDRINUSE: another port
                continue
            return port, ["127.0.0.1"]  # no IPv6 loopback here
        return port, ["127.0.0.1", "::1"]
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


class RawListener:
    def __init__(self, answer: bytes = b"") -> None:
        self.answer = answer
        self.port, self.hosts = _free_port_on_both()
        self._connections = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def start(self) -> RawListener:
        self._thread.start()
        assert self._ready.wait(10), "the listener did not start"
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self._connections += 1
        with contextlib.suppress(OSError):
            if self.answer:
                await asyncio.wait_for(reader.read(65536), 1)  # the request, unread otherwise
                writer.write(self.answer)
                await writer.drain()
        writer.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, self.hosts, self.port)
        )
        self._ready.set()
        self._loop.run_forever()
