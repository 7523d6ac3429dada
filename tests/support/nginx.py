"""nginx with its Lua module, as ingress-nginx is built, started on free ports for a test.

``scripts/ensure-nginx.sh`` (``make nginx``) installs Debian's packages; without them the
calling test fails and says so (never skips). :func:`running` writes a configuration to a
directory of the test's own, starts ``nginx -g 'daemon off;'`` there, waits for its port
and stops it (SIGTERM, then SIGKILL) when the test ends.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.processes import terminate

NGINX = Path("/usr/sbin/nginx")
MODULES = Path("/usr/lib/nginx/modules")
LOAD_LUA = "".join(
    f"load_module {MODULES / name};\n" for name in ("ndk_http_module.so", "ngx_http_lua_module.so")
)
"""The first lines of a configuration whose servers use Lua (the NDK first: Lua needs it)."""


def _installed() -> None:
    for path in (NGINX, *(MODULES / n for n in ("ndk_http_module.so", "ngx_http_lua_module.so"))):
        if not path.exists():
            pytest.fail(f"{path} is missing: run `make nginx` (scripts/ensure-nginx.sh)")


def _temp_paths(directory: Path) -> str:
    """Every path nginx writes to, inside ``directory`` (it runs unprivileged)."""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return "".join(f"  {kind}_temp_path {directory / kind};\n" for kind in kinds)


@contextlib.contextmanager
def running(directory: Path, servers: str, port: int) -> Iterator[None]:
    """nginx serving ``servers`` (the inside of the ``http`` block), ready on ``port``."""
    _installed()
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(
        f"{LOAD_LUA}worker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} info;\nevents {{}}\n"
        f"http {{\n  access_log off;\n{_temp_paths(directory)}{servers}\n}}\n",
        encoding="utf-8",
    )
    output = directory / "nginx.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [str(NGINX), "-p", str(directory), "-c", str(conf), "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx stopped: {output.read_text(errors='replace')}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"nginx did not listen on {port} in 10 s")
            time.sleep(0.05)
        yield
    finally:
        terminate(process)
