"""The portal's URLs plus one view that fails, to see what a visitor gets from a server error."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

SECRET_DETAIL = "connection string postgres://portal:hunter2@db/portal"


def failing_view(request):
    raise RuntimeError(SECRET_DETAIL)


urlpatterns = [path("fail/", failing_view), *portal_urlpatterns]
