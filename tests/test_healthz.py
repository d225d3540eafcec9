import threading

import pytest
from django.db import connections
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["status"] == "ok"


def test_healthz_reports_the_broker_down_but_stays_up():
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "down"
    assert response.json()["status"] == "degraded"


def in_thread_with_unreachable_database(make_request):
    """Run a request in a thread whose database connection points nowhere.

    Each thread has its own connection object, so the rest of the suite keeps
    its working database (including SQLite's shared in-memory test database).
    """
    outcome = {}

    def run():
        conn = connections["default"]
        settings_dict = dict(conn.settings_dict)
        if conn.vendor == "sqlite":
            settings_dict["NAME"] = "/nonexistent-directory/db.sqlite3"
        else:
            settings_dict.update(HOST="127.0.0.1", PORT="1")
        conn.settings_dict = settings_dict
        try:
            outcome["response"] = make_request()
        finally:
            conn.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return outcome["response"]


def test_healthz_is_503_when_the_database_is_unreachable(db):
    response = in_thread_with_unreachable_database(lambda: Client().get("/healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_pages_show_a_friendly_error_when_the_database_is_down(db):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a-session-that-needs-the-database"
    response = in_thread_with_unreachable_database(lambda: client.get("/o/home/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Sorry, there is a problem with the service" in body
    assert "Traceback" not in body
