"""The mapper: a data-plane process that normalizes source events into canonical ones, exactly once.

``table`` holds the mappings table format (a compacted topic a reconciler writes) and its reader, ``encode``
writes canonical events in the registry's wire format, ``mapper`` is the consume-map-produce loop (on the
router's transaction loop, ``routing.transactional``), ``metrics`` its Prometheus counters and liveness.
Like the router it never reads Postgres: ``python manage.py run_mapper`` needs Kafka and the registry only.
"""
