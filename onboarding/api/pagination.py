"""Page-number pagination: ``?page=`` and ``?page_size=`` (at most 500)."""

from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    """The default page of 50 items; automation may ask for up to 500 per page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
