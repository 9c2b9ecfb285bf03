"""The portal's URLs plus one API view that fails, to see how an unhandled exception is answered."""

from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from portal.urls import urlpatterns as portal_urlpatterns


class Boom(Exception):
    pass


@api_view(["GET"])
@permission_classes([AllowAny])
def crash(request):
    raise Boom("the view failed on purpose")


urlpatterns = [path("api/v1/crash/", crash), *portal_urlpatterns]
