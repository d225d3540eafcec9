"""Benchmarks (`make bench`): production-like, plain HTTP on loopback, reference pages added."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

DEBUG = False
ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["mentoring.request"] = {"level": "WARNING"}  # noqa: F405
