"""Who the site is: its public base URL and the host names it answers to, from the publication(s).

Every absolute URL the web app makes (confirmation links, the feed, archive pages) starts with the
publication's `web_base_url`, never with the request's Host header. The trusted hosts are that URL's
host (of every publication in NEWSLETTER_PUBLICATIONS_DIR), the loopback names (`newsletter serve` on a
laptop, tests, a health check from the same machine) and NEWSLETTER_TRUSTED_HOSTS.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from newsletter.config import Settings
from newsletter.content.load import load_publication
from newsletter.content.schema import Publication
from newsletter.errors import ConfigError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@lru_cache(maxsize=4)
def publications(directory: Path) -> tuple[Publication, ...]:
    """Every publication in `directory` (*.yaml, by name); ConfigError when there is none."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError(f"NEWSLETTER_PUBLICATIONS_DIR: no publication file in {directory}")
    return tuple(load_publication(path)[0] for path in files)


def publication(directory: Path) -> Publication:
    """The site's publication (the first *.yaml by name): sender, name, base URL for public pages."""
    return publications(directory)[0]


def base_url(settings: Settings) -> str:
    """The public base URL (no trailing slash) every absolute link starts with."""
    return publication(settings.publications_dir).web_base_url.rstrip("/")


def trusted_hosts(settings: Settings) -> list[str]:
    """Host names the app answers to (Host header without the port); others are refused."""
    hosts = [urlsplit(p.web_base_url).hostname or "" for p in publications(settings.publications_dir)]
    every = [*hosts, *LOOPBACK_HOSTS, *settings.extra_trusted_hosts()]
    return list(dict.fromkeys(h.lower() for h in every if h))


def is_loopback(host: str | None) -> bool:
    """Whether a request's host name is a loopback name (plain http is allowed there: dev and tests)."""
    return (host or "").strip("[]").lower() in LOOPBACK_HOSTS
