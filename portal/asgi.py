import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from portal.observability.tracing import configure_tracing  # noqa: E402 - after the settings module is named

configure_tracing("portal-web")  # before the handler loads the middleware, which tracing extends
application = get_asgi_application()
