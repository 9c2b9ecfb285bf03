"""gunicorn settings read by the image's entry point (`--config python:portal.gunicorn_conf`)."""

import os


def child_exit(server, worker):
    # In multiprocess mode each worker leaves metric files behind; this drops its live gauges.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
