"""Operators' view of the portal: Prometheus metrics, OpenTelemetry traces, structured logs, health checks."""
