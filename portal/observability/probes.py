"""Probe and scrape endpoints answered before host validation and the HTTPS redirect.

Kubelets and Prometheus reach a pod by its IP over plain HTTP. Through the normal middleware stack
such a request is refused (the IP is not an allowed host) or redirected to HTTPS, so a scrape would
get 400 and a probe would count a 301 as healthy. These views read no host, set no cookie and render
no page, so they are safe to answer first; /metrics keeps its own token and address guard.
"""

from __future__ import annotations

from portal.observability import health, metrics

PROBE_VIEWS = {"/healthz": health.healthz, "/readyz": health.readyz, "/metrics": metrics.metrics_view}


class ProbeEndpointsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = PROBE_VIEWS.get(request.path_info)
        return view(request) if view is not None else self.get_response(request)
