"""Faults the service must survive, with the real processes: a worker killed part way
through a batch, PostgreSQL restarted under load, Redis down, two beats at once.

Each test starts what it breaks (its own PostgreSQL cluster or Redis on a free port)
and stops it again, so nothing depends on, or disturbs, the machine's own services.
"""
