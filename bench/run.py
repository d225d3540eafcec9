"""Load benchmark: gunicorn (4 sync workers) on loopback, measured with wrk.

    .venv/bin/python bench/run.py                         # what `make bench` runs
    BENCH_SECONDS=20 .venv/bin/python bench/run.py        # longer runs per measurement
    BENCH_SECONDS=2 BENCH_CONNECTIONS=16 BENCH_PAGES=survey .venv/bin/python bench/run.py

Seeds a large organisation (bench/scale.py: 10,000 mentees, 1,500 mentors, 60,000
sessions, 30,000 survey responses, three cohorts) and the demo, then serves them with
gunicorn and measures every page at 16 and 64 connections beside two reference pages
on the same server (a hello-world view and a template listing 50 rows): the lead
nurse's intake queue, a mentor's relationship page, a survey section page opened by a
link and the same section saved again, the programme dashboard, the cohort report and
the demo's everyday pages. It prints a table, writes bench/results.json and exits with
status 1 when a page misses a target (see TARGETS), printing which.

Runs against DATABASE_URL, by default its own PostgreSQL database,
postgres://postgres@127.0.0.1:5432/mentoring_bench, made if missing and reused: data
already seeded is not seeded again. See bench/README.md.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on the path; the project root goes in front of it.
sys.path.insert(0, str(ROOT))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = tuple(int(c) for c in os.environ.get("BENCH_CONNECTIONS", "16,64").split(","))
BASE = f"http://127.0.0.1:{PORT}"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mentoring_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
RESULTS = ROOT / "bench" / "results.json"
LUA = ROOT / "bench" / "requests.lua"
WRK_THREADS = 2
WORKERS = 4
REFERENCE = "/bench/fifty-rows"
# Every page, at TARGET_CONNECTIONS: at least this share of the 50-row reference page's
# requests per second, and this 95th percentile; at every level, no errors.
TARGET_CONNECTIONS = 16
TARGET_SHARE = 0.60
TARGET_P95_MS = 150.0
# Measuring starts once the CPUs are this idle (or after a minute's wait).
IDLE_SHARE = 0.8
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    env.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    # Production's cache: Redis, in a database of its own.
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    env.setdefault("STATIC_ROOT", str(ROOT / "var" / "bench" / "static"))
    # The demo's accounts skip two-factor; the large organisation's people have it set up.
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


def wait_until_up(deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE}/bench/hello", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


# --- What is measured -------------------------------------------------------------------


@dataclass
class Page:
    """One measured page: every request wrk sends for it, and what a good answer is.

    Each slot is (path, Cookie header, form body); wrk's threads share the slots out.
    """

    label: str
    method: str
    slots: list[tuple[str, str, str]]
    about: str = ""
    expect: int = 200
    redirect_to: str = ""
    alone_ms: float = 0.0
    results: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.slots[0][0]


def signed_in(label: str, path: str, cookie: str | None, about: str = "") -> Page:
    return Page(label, "GET", [(path, f"sessionid={cookie}" if cookie else "", "")], about)


def fetch(method: str, path: str, cookie: str = "", body: str = ""):
    """One request, redirects not followed: (status, headers, text)."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def cookies_set(headers) -> dict[str, str]:
    jar = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def survey_pages(tokens: list[str], answers: list[list[str]]) -> list[Page]:
    """Open each survey link as its person would; the first section's GET and POST.

    The link's GET swaps the token for a session holding the invitation, which lasts
    the whole run; the section page sets the CSRF cookie and carries the form token.
    The POST presses Continue on the first section: it saves that section's answers
    again each time (the same answers, replacing the earlier ones) and never submits
    the survey, so it can be repeated for as long as the run lasts.
    """
    views, saves = [], []
    for token in tokens:
        status, headers, _ = fetch("GET", f"/s/{token}/")
        session = cookies_set(headers).get("sessionid")
        if status != 302 or not session:
            raise SystemExit(f"the survey link answered {status}, not a redirect with a session")
        cookie = f"sessionid={session}"
        status, headers, _ = fetch("GET", headers["Location"], cookie)
        first_section = headers.get("Location", "")
        if status != 302 or not first_section.endswith("/page/1/"):
            raise SystemExit(f"the survey start answered {status} to {first_section!r}")
        status, headers, text = fetch("GET", first_section, cookie)
        csrf_cookie = cookies_set(headers).get("csrftoken")
        csrf_field = CSRF_FIELD.search(text)
        if status != 200 or not csrf_cookie or not csrf_field:
            raise SystemExit(f"the survey's first section answered {status} without a CSRF token")
        body = urllib.parse.urlencode(
            [
                *map(tuple, answers),
                ("csrfmiddlewaretoken", csrf_field.group(1)),
                ("action", "continue"),
            ]
        )
        views.append((first_section, cookie, ""))
        saves.append((first_section, f"{cookie}; csrftoken={csrf_cookie}", body))
    about = f"{len(tokens)} open invitations, a session each"
    return [
        Page("survey section (link session)", "GET", views, about),
        Page(
            "survey section saved (POST)",
            "POST",
            saves,
            about,
            expect=302,
            redirect_to="/page/2/",
        ),
    ]


def pages(prepared: dict) -> list[Page]:
    """The reference pages first, then the large organisation's, then the demo's."""
    demo = prepared["demo"]
    return [
        signed_in("reference: hello world", "/bench/hello", None),
        signed_in("reference: 50-row template", REFERENCE, None),
        *(
            signed_in(page["label"], page["path"], page["cookie"], page["about"])
            for page in prepared["pages"]
        ),
        *survey_pages(prepared["survey"]["tokens"], prepared["survey"]["answers"]),
        signed_in("health check", "/healthz", None),
        signed_in("sign-in page", "/accounts/login/", None),
        signed_in("organisation home (demo admin)", "/o/wessex/", demo["admin"]),
        signed_in("people list (demo admin)", "/o/wessex/people/", demo["admin"]),
        signed_in("trust list (demo lead nurse)", "/o/wessex/trusts/", demo["lead"]),
        signed_in("intake queue (demo lead nurse)", "/o/wessex/mentoring/mentees/", demo["lead"]),
        signed_in("mentors list (demo admin)", "/o/wessex/mentoring/mentors/", demo["admin"]),
        signed_in("programme list (demo admin)", "/o/wessex/programmes/", demo["admin"]),
        signed_in("mentor profile (demo mentor)", "/o/wessex/mentoring/profile/", demo["mentor"]),
    ]


def chosen(every: list[Page]) -> list[Page]:
    """BENCH_PAGES (words, comma-separated) keeps the pages whose labels hold one."""
    words = [w.strip().lower() for w in os.environ.get("BENCH_PAGES", "").split(",") if w.strip()]
    if not words:
        return every
    return [
        page
        for page in every
        if page.label.startswith("reference") or any(w in page.label.lower() for w in words)
    ]


def keep_cookies_set(page: Page) -> None:
    """Each slot opened once, and sent from then on with the cookies that set (the CSRF
    cookie of a page with a form), as the person's browser would send them."""
    slots = []
    for path, cookie, body in page.slots:
        _, headers, _ = fetch(page.method, path, cookie, body)
        sent = SimpleCookie(cookie)
        added = [
            f"{name}={value}" for name, value in cookies_set(headers).items() if name not in sent
        ]
        slots.append((path, "; ".join(filter(None, [cookie, *added])), body))
    page.slots = slots


def check_answers(page: Page) -> float:
    """Each page before it is measured, as wrk would count a redirect to sign in as a
    success; then warmed in every worker (templates compiled, connections open), and the
    milliseconds one more request takes alone."""
    if page.method == "GET":
        keep_cookies_set(page)
    path, cookie, body = page.slots[0]
    status, headers, _ = fetch(page.method, path, cookie, body)
    location = headers.get("Location", "")
    if status != page.expect or not location.endswith(page.redirect_to):
        raise SystemExit(
            f"{page.label}: {page.method} {path} answered {status} {location} "
            f"before the run, not {page.expect}"
        )
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda slot: fetch(page.method, *slot), page.slots[:1] * WORKERS))
    started = time.perf_counter()
    fetch(page.method, path, cookie, body)
    return round((time.perf_counter() - started) * 1000, 1)


# --- Measuring ----------------------------------------------------------------------------


def wrk(page: Page, connections: int, scratch: Path) -> dict:
    slots = scratch / "slots.tsv"
    slots.write_text(
        "".join(f"{page.method}\t{path}\t{cookie}\t{body}\n" for path, cookie, body in page.slots)
    )
    threads = min(connections, WRK_THREADS)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{SECONDS}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        BASE,
        "--",
        str(slots),
        str(threads),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=SECONDS + 60)
    numbers = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = numbers["duration_us"] / 1_000_000
    return {
        "requests": numbers["requests"],
        "rps": round(numbers["requests"] / seconds, 1),
        "p50_ms": round(numbers["p50_us"] / 1000, 1),
        "p95_ms": round(numbers["p95_us"] / 1000, 1),
        "p99_ms": round(numbers["p99_us"] / 1000, 1),
        "socket_errors": numbers["errors"],
        "status_errors": numbers["non2xx"],
        "errors": numbers["errors"] + numbers["non2xx"],
    }


def start_server() -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "config" / "gunicorn.py"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment(),
        start_new_session=True,
    )


def prepare() -> dict:
    """Seed (or reuse) the data and sign people in, in a process of its own."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py")],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench/scale.py failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line)
    return json.loads(lines[-1])


def settle(url: str) -> None:
    """What follows loading the data (autovacuum reading each new table, the checkpoint
    writing them out) done now, not while pages are measured; then a wait, of a minute
    at most, for a second in which the CPUs are mostly idle."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        try:
            connection.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            print("note: no CHECKPOINT (needs a superuser or pg_checkpoint)")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and cpu_idle_share() < IDLE_SHARE:
        pass


def cpu_idle_share(seconds: float = 1.0) -> float:
    """The share of the CPUs' time spent idle (or waiting for the disk) over ``seconds``."""

    def times() -> list[int]:
        with open("/proc/stat") as stat:
            return [int(n) for n in stat.readline().split()[1:]]

    before = times()
    time.sleep(seconds)
    spent = [after - then for after, then in zip(times(), before, strict=True)]
    return (spent[3] + spent[4]) / max(sum(spent), 1)


# --- Targets and the table ----------------------------------------------------------------


def share_of_reference(results: list[Page], page: Page, connections: int) -> float | None:
    reference = next(p for p in results if p.path == REFERENCE).results.get(f"c{connections}")
    measured = page.results.get(f"c{connections}")
    if not reference or not measured or not reference["rps"]:
        return None
    return measured["rps"] / reference["rps"]


def missed_targets(results: list[Page]) -> list[str]:
    missed = []
    for page in results:
        for connections in CONNECTIONS:
            measured = page.results[f"c{connections}"]
            if not measured["requests"]:
                missed.append(
                    f"{page.label} at {connections} connections: no request finished in "
                    f"{SECONDS} s (one request alone took {page.alone_ms:.0f} ms)"
                )
            if measured["errors"]:
                missed.append(
                    f"{page.label} at {connections} connections: {measured['errors']} errors "
                    f"({measured['status_errors']} answered 4xx/5xx, "
                    f"{measured['socket_errors']} socket errors or timeouts)"
                )
        measured = page.results.get(f"c{TARGET_CONNECTIONS}")
        if measured is None:
            continue
        share = share_of_reference(results, page, TARGET_CONNECTIONS)
        if share is not None and share < TARGET_SHARE:
            missed.append(
                f"{page.label}: {measured['rps']} requests/s at {TARGET_CONNECTIONS} connections "
                f"is {share:.0%} of the 50-row reference page's (target at least {TARGET_SHARE:.0%})"
            )
        if measured["requests"] and measured["p95_ms"] >= TARGET_P95_MS:
            missed.append(
                f"{page.label}: p95 {measured['p95_ms']} ms at {TARGET_CONNECTIONS} connections "
                f"(target under {TARGET_P95_MS:.0f} ms)"
            )
    return missed


def print_table(results: list[Page]) -> None:
    print(
        f"\n{'page':<34} {'conns':>5} {'req/s':>8} {'p50':>8} {'p95':>8} {'p99':>8} "
        f"{'errors':>6} {'vs 50-row':>9}"
    )
    for page in results:
        for connections in CONNECTIONS:
            m = page.results[f"c{connections}"]
            share = share_of_reference(results, page, connections)
            print(
                f"{page.label:<34} {connections:>5} {m['rps']:>8} {m['p50_ms']:>6}ms "
                f"{m['p95_ms']:>6}ms {m['p99_ms']:>6}ms {m['errors']:>6} "
                f"{'' if share is None else f'{share:.0%}':>9}"
            )


def database_label(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def main() -> int:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed. On Debian or Ubuntu: sudo apt-get install -y wrk")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    # bench.export imports this module, so it is imported here, not at the top.
    from bench.export import ensure_database

    url = os.environ["DATABASE_URL"]
    ensure_database(url)
    manage("migrate", "--no-input")
    manage("createcachetable")
    manage("seed_demo")
    manage("collectstatic", "--no-input")
    prepared = prepare()
    settle(url)

    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores; numbers may be low")
    scratch = Path(environment()["VAR_DIR"]) / "wrk"
    scratch.mkdir(parents=True, exist_ok=True)
    server = start_server()
    try:
        wait_until_up(time.monotonic() + 60)
        results = chosen(pages(prepared))
        for page in results:
            page.alone_ms = check_answers(page)
            for connections in CONNECTIONS:
                page.results[f"c{connections}"] = wrk(page, connections, scratch)
                print(f"measured {page.label} at {connections} connections", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    print_table(results)
    missed = missed_targets(results)
    checked = TARGET_CONNECTIONS in CONNECTIONS
    RESULTS.write_text(
        json.dumps(
            {
                "seconds_per_run": SECONDS,
                "connections": list(CONNECTIONS),
                "database": database_label(url),
                "load_average_before": round(load, 2),
                "targets": {
                    "connections": TARGET_CONNECTIONS,
                    "share_of_50_row_reference": TARGET_SHARE,
                    "p95_ms_under": TARGET_P95_MS,
                    "errors": 0,
                    "checked": checked,
                },
                "missed": missed,
                "results": [
                    {
                        "page": page.label,
                        "method": page.method,
                        "path": page.path,
                        "about": page.about,
                        "one_request_alone_ms": page.alone_ms,
                        **{
                            key: {
                                **measured,
                                "share_of_reference": (
                                    None
                                    if (share := share_of_reference(results, page, int(key[1:])))
                                    is None
                                    else round(share, 3)
                                ),
                            }
                            for key, measured in page.results.items()
                        },
                    }
                    for page in results
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    if not checked:
        print(f"targets at {TARGET_CONNECTIONS} connections not checked: not measured")
    if missed:
        print("\ntargets missed:")
        for line in missed:
            print(f"  {line}")
        return 1
    print("\nevery target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
