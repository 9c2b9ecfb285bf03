"""Adapters to the real platform: the only code that imports confluent-kafka or calls the registry.

Every failure leaves this package as a PlatformError that says whether trying again can help.
"""

from onboarding.platform.errors import PlatformError

__all__ = ["PlatformError"]
