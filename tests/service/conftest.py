"""The service under test, on every store backend (see service_support)."""

from service_support import backend, service, world  # noqa: F401
