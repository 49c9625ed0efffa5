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
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_service(
    args: list[str], *, cwd: Path, env: dict[str, str], port: int, timeout: float = 60.0
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


@dataclass
class Service:
    """A `btassist` process started by `started_services`, its port and its log file."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    def output(self) -> str:
        """Everything the process wrote so far."""
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""


@contextmanager
def started_services(
    count: int, args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 30.0
) -> Iterator[list[Service]]:
    """Start `count` processes of `btassist <args> --port <free port>` at once (so they race),
    wait until each answers /healthz, and stop (or kill) them afterwards. Their output goes to
    log files (a pipe nobody reads would block a chatty process)."""
    services: list[Service] = []
    try:
        for number in range(count):
            port = free_port()
            log = cwd / f"service-{port}-{number}.log"
            with log.open("w", encoding="utf-8") as sink:
                process = subprocess.Popen(
                    [sys.executable, "-m", "btassist", *args, "--port", str(port)],
                    cwd=cwd,
                    env={**os.environ, **env},
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            services.append(Service(process, port, log))
        for service in services:
            try:
                wait_until_healthy(service.process, service.port, timeout)
            except AssertionError as error:
                raise AssertionError(f"{error}\n{service.output()}") from None
        yield services
    finally:
        for service in services:
            if service.process.poll() is None:
                service.process.terminate()
        for service in services:
            try:
                service.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()
