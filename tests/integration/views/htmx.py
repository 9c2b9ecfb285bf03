"""Request headers that htmx sends, so the test client can ask for a fragment like the browser does."""

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx_to(target: str) -> dict:
    """Headers of an htmx request whose hx-target is the element with this id."""
    return {**HTMX, "HTTP_HX_TARGET": target}
