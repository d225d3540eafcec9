"""The real processes the fault tests start, break and stop.

Every process runs in a session of its own, so stopping it stops its children too
(gunicorn's workers, Celery's pool). Ports are free ones the system hands out, so
two test processes (``pytest -n 2``) never meet.
"""

from __future__ import annotations

import contextlib
import email
import glob
import http.client
import http.cookies
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Variables of the test run that must not leak into the processes it starts.
NOT_INHERITED = {
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "CELERY_TASK_ALWAYS_EAGER",
    "EMAIL_BACKEND",
    "EMAIL_FILE_PATH",
}


MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, every: float = 0.05) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)


def environment(**values: str | None) -> dict[str, str]:
    """The environment of a process of the app: the demo's settings, quiet logs."""
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_DEBUG="0")
    env.update(LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    for key, value in values.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Process:
    """One process (and its children) started in a session of its own, logged to a file."""

    def __init__(self, command: list[str], *, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603 - fixed commands of this test suite
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, number: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, number)

    def stop(self, *, grace: float = 10) -> None:
        stop_all([self], grace=grace)

    def wait(self, timeout: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=max(0.0, timeout))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def stop_all(processes: list[Process], *, grace: float = 10) -> None:
    """SIGTERM to every group at once, SIGKILL to what is left after ``grace`` seconds."""
    for process in processes:
        process.signal(signal.SIGCONT)
        process.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        process.wait(deadline - time.monotonic())
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


# --- Redis ------------------------------------------------------------------------------


class ThrowawayRedis:
    """A redis-server of the test's own, nothing saved to disk, stopped and started at will."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = Process(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.folder),
            ],
            env=dict(os.environ),
            log=self.folder / "redis.log",
        )
        assert wait_for(self.answers, timeout=10), self.process.tail()

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(grace=5)
            self.process = None


# --- PostgreSQL -------------------------------------------------------------------------


def _postgres_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    assert found, "PostgreSQL's server programs are not installed under /usr/lib/postgresql"
    return Path(found[-1]).parent


class ThrowawayPostgres:
    """A PostgreSQL cluster of the test's own on a free port, listening on 127.0.0.1.

    The server refuses to run as root, so when the tests run as root it runs as the
    ``postgres`` user, with its data in a folder that user owns.
    """

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="faults-postgres-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        done = subprocess.run(  # noqa: S603 - the cluster's own programs
            [*prefix, *command],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "--pgdata",
            str(self.data),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "start",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            "--timeout=30",
            "-o",
            options,
        )

    def restart(self) -> None:
        """Stop fast (open connections are cut, running transactions roll back) and start."""
        self._run(
            str(self.bin / "pg_ctl"),
            "restart",
            "--pgdata",
            str(self.data),
            "--mode=fast",
            "--wait",
            "--timeout=30",
            "--log",
            str(self.log),
        )

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        """Stop the server, whatever state it is in, and remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(
                    str(self.bin / "pg_ctl"),
                    "stop",
                    "--pgdata",
                    str(self.data),
                    "--mode=immediate",
                    "--wait",
                    "--timeout=20",
                )
        except (AssertionError, subprocess.TimeoutExpired):
            pid_file = self.data / "postmaster.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --- The app ----------------------------------------------------------------------------


def run_django(code: str, *, env: dict[str, str], timeout: float = 120) -> str:
    """Run Python against the app with ``env`` (after ``django.setup()``); its output."""
    done = subprocess.run(  # noqa: S603 - this interpreter, code of this test suite
        [sys.executable, "-c", f"import django\ndjango.setup()\n{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


class WebServer(Process):
    """gunicorn serving the app with two sync workers, as production runs it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "30",
                "--graceful-timeout",
                "3",
                "--preload",
            ],
            env=env,
            log=log,
        )

    def wait_ready(self) -> None:
        assert wait_for(self.ready, timeout=60, every=0.2), self.tail()

    def ready(self) -> bool:
        return self.alive() and Visitor(self.base).get("/healthz").status in {200, 503}

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return {int(pid) for pid in children.read_text().split()}


@dataclass
class Reply:
    status: int
    location: str
    body: str

    def __repr__(self) -> str:
        return f"<{self.status} {self.location or self.body[:200]!r}>"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Visitor:
    """One person's browser, without the browser: cookies, CSRF token, no redirects."""

    def __init__(self, base: str, *, timeout: float = 15) -> None:
        self.base = base
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirects)

    def request(self, method: str, path: str, data: dict | None = None) -> Reply:
        headers = {"Referer": self.base + path}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        request = urllib.request.Request(  # noqa: S310 - http to the test's own server
            self.base + path, data=body, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return self._reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return self._reply(error.code, error.headers, error.read())
        except (OSError, http.client.HTTPException) as error:
            return Reply(0, "", repr(error))

    def _reply(self, status: int, headers, content: bytes) -> Reply:
        for header in headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Reply(status, headers.get("Location", ""), content.decode(errors="replace"))

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, data: dict) -> Reply:
        return self.request("POST", path, data)


# --- Celery ---------------------------------------------------------------------------


def celery_worker(env: dict[str, str], log: Path, *, name: str) -> Process:
    """A Celery worker of one process, as ``celery -A config worker`` starts it."""
    return Process(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            f"--hostname={name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        log=log,
    )


def celery_beat(
    env: dict[str, str], log: Path, *, schedule: dict[str, str], state: Path
) -> Process:
    """Celery beat running only ``schedule`` (entry name -> task name), each every second.

    It logs each task it sends ("Sending due task <entry>").
    """
    code = (
        "import datetime\n"
        "from config.celery_app import app\n"
        "app.loader.import_default_modules()\n"
        "app.conf.beat_schedule = {\n"
        f"    name: {{'task': task, 'schedule': datetime.timedelta(seconds=1)}}\n"
        f"    for name, task in {schedule!r}.items()\n"
        "}\n"
        "app.start(['beat', '--loglevel=INFO',"
        f" '--schedule={state}', '--max-interval=1'])\n"
    )
    return Process([sys.executable, "-c", code], env=env, log=log)


def mailed(mail_root: Path) -> list[email.message.Message]:
    """Every message the file e-mail backend wrote under ``mail_root``, in any folder."""
    found = []
    for path in sorted(mail_root.rglob("*.log")):
        for chunk in path.read_bytes().split(MAIL_SEPARATOR):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk))
    return found
