"""Web fixtures: a webhook signing key, the web app over the test database, a signed poster."""

from __future__ import annotations

from events.fixtures import client, post, staff_client, web_services, webhook_key

__all__ = ["client", "post", "staff_client", "web_services", "webhook_key"]
