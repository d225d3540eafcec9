"""Load benchmark: gunicorn (4 sync workers) on loopback, measured with wrk.

Measures each page at 16 and 64 connections beside two reference pages on the same
server (a hello-world view and a template listing 50 rows), prints a table and
writes bench/results.json. Runs against DATABASE_URL (PostgreSQL recommended);
with it unset, a SQLite database under var/bench/.

    make bench                      # default duration
    BENCH_SECONDS=20 make bench     # longer runs
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8765"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = (16, 64)
BASE = f"http://127.0.0.1:{PORT}"


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    env.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    env.setdefault("STATIC_ROOT", str(ROOT / "var" / "bench" / "static"))
    env["DEMO_MODE"] = "1"
    return env


def manage(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def session_cookie(email: str) -> str:
    """A signed-in session for a demo account, made without the browser."""
    code = (
        "from django.contrib.sessions.backends.db import SessionStore;"
        "from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY;"
        "import time;"
        f"u=get_user_model().objects.get(email='{email}');"
        "s=SessionStore();"
        "s[SESSION_KEY]=str(u.pk);"
        "s[BACKEND_SESSION_KEY]='django.contrib.auth.backends.ModelBackend';"
        "s[HASH_SESSION_KEY]=u.get_session_auth_hash();"
        "s['session_started_at']=int(time.time()); s['session_touched_at']=int(time.time());"
        "s.save(); print(s.session_key)"
    )
    return manage("shell", "-c", code).strip().splitlines()[-1]


def wait_until_up(deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE}/bench/hello", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def wrk(path: str, connections: int, cookie: str | None) -> dict:
    command = [
        "wrk",
        f"-t{min(connections, 2)}",
        f"-c{connections}",
        f"-d{SECONDS}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "latency.lua"),
    ]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    command.append(BASE + path)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    numbers = json.loads(output.strip().splitlines()[-1])
    seconds = numbers["duration_us"] / 1_000_000
    return {
        "rps": round(numbers["requests"] / seconds, 1),
        "p50_ms": round(numbers["p50_us"] / 1000, 1),
        "p95_ms": round(numbers["p95_us"] / 1000, 1),
        "p99_ms": round(numbers["p99_us"] / 1000, 1),
        "errors": numbers["errors"] + numbers["non2xx"],
    }


def pages(cookies: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """(label, path, session cookie). Later layers add their pages here."""
    return [
        ("reference: hello world", "/bench/hello", None),
        ("reference: 50-row template", "/bench/fifty-rows", None),
        ("health check", "/healthz", None),
        ("sign-in page", "/accounts/login/", None),
        ("organisation home (admin)", "/o/wessex/", cookies["admin"]),
        ("people list (admin)", "/o/wessex/people/", cookies["admin"]),
        ("trust list (lead nurse)", "/o/wessex/trusts/", cookies["lead"]),
        ("intake queue (lead nurse)", "/o/wessex/mentoring/mentees/", cookies["lead"]),
        ("mentors list (admin)", "/o/wessex/mentoring/mentors/", cookies["admin"]),
        ("programme list (admin)", "/o/wessex/programmes/", cookies["admin"]),
        ("mentor profile (mentor)", "/o/wessex/mentoring/profile/", cookies["mentor"]),
    ]


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    manage("migrate", "--no-input")
    manage("createcachetable")
    manage("seed_demo")
    manage("collectstatic", "--no-input")
    cookies = {
        "admin": session_cookie("admin@wessex.example"),
        "lead": session_cookie("lead.uhs@wessex.example"),
        "mentor": session_cookie("mentor.uhs@wessex.example"),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment(),
        start_new_session=True,
    )
    results = []
    try:
        wait_until_up(time.monotonic() + 30)
        for label, path, cookie in pages(cookies):
            row = {"page": label, "path": path}
            for connections in CONNECTIONS:
                row[f"c{connections}"] = wrk(path, connections, cookie)
            results.append(row)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    reference = next(r for r in results if r["path"] == "/bench/fifty-rows")["c16"]["rps"]
    print(
        f"\n{'page':<30} {'conns':>5} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'err':>4} {'vs 50-row':>9}"
    )
    for row in results:
        for connections in CONNECTIONS:
            m = row[f"c{connections}"]
            share = f"{m['rps'] / reference:.0%}" if connections == 16 else ""
            print(
                f"{row['page']:<30} {connections:>5} {m['rps']:>8} {m['p50_ms']:>6}ms "
                f"{m['p95_ms']:>6}ms {m['p99_ms']:>6}ms {m['errors']:>4} {share:>9}"
            )
    out = ROOT / "bench" / "results.json"
    out.write_text(
        json.dumps(
            {
                "seconds_per_run": SECONDS,
                "database": os.environ.get("DATABASE_URL", "sqlite"),
                "results": results,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
