"""Paths of the webhook API."""

WEBHOOKS = "/api/v1/webhooks/"
