"""Starting `btassist` as a real process and waiting for it to answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_service(
    args: list[str], *, cwd: Path, env: dict[str, str], port: int, timeout: float = 30.0
) -> Iterator[subprocess.Popen[str]]:
    """Run `btassist serve …` until /healthz answers; stop it afterwards."""
    with subprocess.Popen(
        [sys.executable, "-m", "btassist", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            yield wait_until_healthy(process, port, timeout)
        finally:
            process.terminate()
            process.wait(timeout=10)


def wait_until_healthy(
    process: subprocess.Popen[str], port: int, timeout: float
) -> subprocess.Popen[str]:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"service exited early:\n{output}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise AssertionError("service did not answer /healthz in time") from None
            time.sleep(0.1)
