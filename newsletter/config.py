"""Settings from the environment (NEWSLETTER_*, SENDGRID_*) and an optional TOML file."""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from newsletter.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE_ENV = "NEWSLETTER_CONFIG_FILE"


def _env(name: str, *more: str) -> AliasChoices:
    return AliasChoices(name, *more)


class Settings(BaseSettings):
    """Every setting the product reads; each field names its environment variable."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///var/newsletter.db", validation_alias=_env("NEWSLETTER_DATABASE_URL"))
    transport: Literal["outbox", "smtp", "sendgrid"] = Field(
        "outbox", validation_alias=_env("NEWSLETTER_TRANSPORT")
    )
    outbox_dir: Path = Field(Path("var/outbox"), validation_alias=_env("NEWSLETTER_OUTBOX_DIR"))
    smtp_url: str | None = Field(None, validation_alias=_env("NEWSLETTER_SMTP_URL"))
    sendgrid_api_key: SecretStr | None = Field(None, validation_alias=_env("SENDGRID_API_KEY"))
    sendgrid_host: str = Field("https://api.sendgrid.com", validation_alias=_env("NEWSLETTER_SENDGRID_HOST"))
    sendgrid_webhook_public_key: str | None = Field(
        None, validation_alias=_env("SENDGRID_WEBHOOK_PUBLIC_KEY")
    )
    secret_key: SecretStr | None = Field(None, validation_alias=_env("NEWSLETTER_SECRET_KEY"))
    secret_key_file: Path = Field(Path("var/secret.key"), validation_alias=_env("NEWSLETTER_SECRET_KEY_FILE"))
    issues_dir: Path = Field(PROJECT_ROOT / "issues", validation_alias=_env("NEWSLETTER_ISSUES_DIR"))
    publications_dir: Path = Field(
        PROJECT_ROOT / "publications", validation_alias=_env("NEWSLETTER_PUBLICATIONS_DIR")
    )
    templates_dir: Path = Field(
        PROJECT_ROOT / "templates" / "emails", validation_alias=_env("NEWSLETTER_TEMPLATES_DIR")
    )
    cache_dir: Path | None = Field(
        PROJECT_ROOT / "var" / "cache", validation_alias=_env("NEWSLETTER_CACHE_DIR")
    )
    log_format: Literal["plain", "json"] = Field("plain", validation_alias=_env("NEWSLETTER_LOG_FORMAT"))
    metrics_token: SecretStr | None = Field(None, validation_alias=_env("NEWSLETTER_METRICS_TOKEN"))
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, validation_alias=_env("NEWSLETTER_WORKER_METRICS_PORT")
    )
    worker_metrics_host: str = Field("127.0.0.1", validation_alias=_env("NEWSLETTER_WORKER_METRICS_HOST"))
    # Web app hardening (README "Security"): hosts, sessions, logins, request sizes, test sends.
    trusted_hosts: str = Field("", validation_alias=_env("NEWSLETTER_TRUSTED_HOSTS"))
    session_idle_minutes: int = Field(60, ge=1, validation_alias=_env("NEWSLETTER_SESSION_IDLE_MINUTES"))
    session_max_hours: int = Field(12, ge=1, validation_alias=_env("NEWSLETTER_SESSION_MAX_HOURS"))
    login_failures_per_account: int = Field(
        5, ge=1, validation_alias=_env("NEWSLETTER_LOGIN_FAILURES_PER_ACCOUNT")
    )
    login_failures_per_ip: int = Field(20, ge=1, validation_alias=_env("NEWSLETTER_LOGIN_FAILURES_PER_IP"))
    max_public_body_bytes: int = Field(
        64 * 1024, ge=1024, validation_alias=_env("NEWSLETTER_MAX_PUBLIC_BODY_BYTES")
    )
    max_staff_body_bytes: int = Field(
        1024 * 1024, ge=1024, validation_alias=_env("NEWSLETTER_MAX_STAFF_BODY_BYTES")
    )
    max_import_body_bytes: int = Field(
        256 * 1024 * 1024, ge=1024, validation_alias=_env("NEWSLETTER_MAX_IMPORT_BODY_BYTES")
    )
    test_send_max_recipients: int = Field(
        20, ge=1, validation_alias=_env("NEWSLETTER_TEST_SEND_MAX_RECIPIENTS")
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            read_config_file(Path(config_file))  # missing, unreadable, malformed or unknown keys: say so
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = urlsplit(value).scheme.split("+")[0]
        if scheme not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("trusted_hosts")
    @classmethod
    def _host_names(cls, value: str) -> str:
        for host in split_hosts(value):
            if not all(part.isalnum() or part in "-.*[]:" for part in host):
                raise ValueError(
                    f"{host!r} is not a host name (comma-separated names, *.example.org allowed)"
                )
        return value

    def extra_trusted_hosts(self) -> list[str]:
        """NEWSLETTER_TRUSTED_HOSTS as a list (added to the publication's host and loopback names)."""
        return split_hosts(self.trusted_hosts)

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"smtp", "smtps"}:
            raise ValueError("must look like smtp://user:pass@host:port (add ?starttls=1 for STARTTLS)")
        return value

    @field_validator("sendgrid_host")
    @classmethod
    def _http_host(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("must be an http(s):// base URL")
        return value.rstrip("/")

    def require_secret_key(self) -> str:
        """The key that signs tokens and sessions: the setting, else the key file."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        if self.secret_key_file.is_file():
            try:
                key = self.secret_key_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(
                    f"{env_name('secret_key_file')}: cannot read {self.secret_key_file}: {_why(exc)}"
                ) from None
            if key:
                return key
        raise ConfigError(
            "NEWSLETTER_SECRET_KEY is not set (nor is there a key in "
            f"{self.secret_key_file}); set it to a long random string"
        )

    def ensure_secret_key_file(self) -> Path | None:
        """For the demo: when no key is configured, create a random one in the key file; returns its path."""
        if (self.secret_key and self.secret_key.get_secret_value()) or self.secret_key_file.is_file():
            return None
        self.secret_key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.secret_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        return self.secret_key_file


def split_hosts(value: str) -> list[str]:
    """Comma- or space-separated host names, lower-cased."""
    return [part.strip().lower() for part in value.replace(",", " ").split() if part.strip()]


_ENV_NAMES = {
    name: str(field.validation_alias.choices[0])  # type: ignore[union-attr]
    for name, field in Settings.model_fields.items()
}


def env_name(field: str) -> str:
    """The environment variable that sets a field."""
    return _ENV_NAMES.get(field, field)


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value is a one-line ConfigError naming its variable (or file, line and key)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "?"
        field = next((f for f, env in _ENV_NAMES.items() if env == name), name)
        raise ConfigError(f"{_where_set(field, overrides)}: {err['msg']}") from None


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in the TOML file at `path`; ConfigError naming the file (and line) when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{CONFIG_FILE_ENV}: cannot read {path}: {_why(exc)}") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{path}:{found[1]}:{found[2]}" if found else str(path)
        reason = re.sub(r" \(at .*\)$", "", message)
        raise ConfigError(f"{where}: not TOML: {reason}") from None
    known = set(Settings.model_fields) | set(_ENV_NAMES.values())
    for key in values:
        if key not in known:
            names = ", ".join(sorted(Settings.model_fields))
            raise ConfigError(f"{path}:{_line_of(text, key)}: unknown setting {key!r} (known: {names})")
    return values


def _where_set(field: str, overrides: dict[str, object]) -> str:
    """Where a field's bad value came from: its variable, or the config file's line (`file:line: field`)."""
    config_file = os.environ.get(CONFIG_FILE_ENV)
    from_file = (
        config_file
        and field not in overrides
        and env_name(field) not in os.environ
        and field in read_config_file(Path(config_file))
    )
    if not config_file or not from_file:
        return env_name(field)
    text = Path(config_file).read_text(encoding="utf-8")
    return f"{config_file}:{_line_of(text, field)}: {field}"


def _line_of(text: str, key: str) -> int:
    """The line of `key = ...` in a TOML text (1 when it cannot be found)."""
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return 1


def _why(exc: OSError | UnicodeDecodeError) -> str:
    """An OS error's reason without its errno, or why the bytes are not UTF-8 text."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "not UTF-8 text"
