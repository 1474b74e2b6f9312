"""Staff web fixtures: services with a secret key, and a test client on 127.0.0.1."""

from __future__ import annotations

from web_staff.fixtures import staff_client, staff_services

__all__ = ["staff_client", "staff_services"]
