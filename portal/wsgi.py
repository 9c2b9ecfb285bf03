import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from portal.observability.tracing import configure_tracing  # noqa: E402 - after the settings module is named

configure_tracing("portal-web")  # before the handler loads the middleware, which tracing extends
application = get_wsgi_application()
