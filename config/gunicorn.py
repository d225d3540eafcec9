"""gunicorn's settings, shared by the container (Dockerfile, docker-compose.yml) and the
load benchmark (bench/run.py): ``gunicorn -c config/gunicorn.py config.wsgi:application``."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
timeout = 30
# No access log of gunicorn's own: the app logs each request as JSON, link tokens masked
# (config/middleware.py).
accesslog = None
