"""Shared helpers of the reliability drivers: the binary, a server process, HTTP calls.

Python 3.11 standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "target" / "reliability"
DEMO_PASSWORD = "reliability-demo-password"


def binary() -> str:
    """`CLAIMROUTE_BIN`, or a release build of this checkout."""
    path = os.environ.get("CLAIMROUTE_BIN")
    if path:
        if not os.access(path, os.X_OK):
            raise SystemExit(f"CLAIMROUTE_BIN={path} is not an executable")
        return path
    print("CLAIMROUTE_BIN unset: cargo build --release", flush=True)
    subprocess.run(["cargo", "build", "--release"], cwd=REPO, check=True)
    path = REPO / "target" / "release" / "claimroute"
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `claimroute serve --demo` on a data dir (and database), restartable."""

    def __init__(self, bin_path: str, data_dir: Path, database_url: str | None,
                 port: int, log_path: Path, extra_env: dict | None = None):
        self.bin = bin_path
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = port
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 120.0) -> float:
        env = dict(os.environ)
        env.update({
            "DATA_DIR": str(self.data_dir),
            "DEMO_PASSWORD": DEMO_PASSWORD,
            "RUST_LOG": env.get("RUST_LOG", "warn"),
            "BIND_ADDR": f"127.0.0.1:{self.port}",
        })
        env.pop("DATABASE_URL", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"\n===== start {time.strftime('%H:%M:%S')} =====\n".encode())
        log.flush()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--demo", "--bind", f"127.0.0.1:{self.port}"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - t0
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not healthy after {timeout}s; see {self.log_path}")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


class Answer:
    __slots__ = ("status", "body", "error")

    def __init__(self, status: int | None, body, error: str | None = None):
        self.status = status
        self.body = body
        self.error = error

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def call(base: str, method: str, path: str, token: str | None = None, body=None,
         headers: dict | None = None, timeout: float = 30.0) -> Answer:
    """One request; a connection failure is an Answer with status None."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        try:
            raw = e.read()
        except OSError:
            raw = b""
        status = e.code
    except (urllib.error.URLError, OSError, ValueError) as e:  # refused, reset, timeout
        return Answer(None, None, f"{type(e).__name__}: {e}")
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw[:500].decode("utf-8", "replace")
    return Answer(status, parsed)


def login(base: str, email: str, password: str = DEMO_PASSWORD) -> str:
    a = call(base, "POST", "/auth/login", body={"email": email, "password": password})
    if a.status != 200:
        raise RuntimeError(f"login {email}: {a.status} {a.body} {a.error}")
    return a.body["access_token"]


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)
