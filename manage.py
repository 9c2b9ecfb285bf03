#!/usr/bin/env python
"""Django's command-line utility for the portal."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.conf import settings

        _ = settings.INSTALLED_APPS  # load settings now so a bad variable is reported plainly
    except ImproperlyConfigured as exc:
        sys.exit(f"Configuration error: {exc}")
    from django.core.management import execute_from_command_line

    if sys.argv[1:2] == ["runserver"]:  # the router and the worker set up their own tracing
        from portal.observability.tracing import configure_tracing

        configure_tracing("portal-web")

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
