"""Every environment variable Autopack reads, in one typed place.

Settings are built by calling :func:`load_settings` (or ``Settings()``) and passed down; no
module reads the environment at import time.

Precedence for every secret ``X``: the file named by ``X_FILE`` wins over the variable ``X``,
which wins over the default. Booleans accept ``1/true/yes/on`` and ``0/false/no/off`` (any
case); an empty variable counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# Secret fields and the environment variable each is read from; each also has a ``*_FILE``.
SECRET_VARIABLES: dict[str, str] = {
    "database_url": "DATABASE_URL",
    "api_key": "AUTOPACK_API_KEY",
    "anthropic_api_key": "ANTHROPIC_API_KEY",
    "openai_api_key": "OPENAI_API_KEY",
    "workspace_url": "AUTOPACK_WORKSPACE_URL",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting could not be read (unreadable ``*_FILE``, malformed value)."""


class _SecretFileSource(PydanticBaseSettingsSource):
    """Reads ``<VAR>_FILE`` for every secret; takes precedence over the plain variable."""

    def __init__(self, settings_cls: type[BaseSettings], environ: dict[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        var = SECRET_VARIABLES.get(field_name)
        if var is None:
            return None, field_name, False
        path = self._environ.get(f"{var}_FILE", "").strip()
        if not path:
            return None, field_name, False
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{var}_FILE: cannot read {path!r}: {exc.strerror}") from exc
        return value, var, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value:
                out[key] = value
        return out


def parse_bool(value: Any) -> bool:
    """Parse a boolean flag the same way everywhere: 1/true/yes/on or 0/false/no/off."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean (use 1/true/yes/on or 0/false/no/off)")


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Autopack's configuration, read from the environment (and ``*_FILE`` for secrets)."""

    model_config = SettingsConfigDict(
        env_ignore_empty=True, extra="ignore", populate_by_name=True, frozen=True
    )

    workspace: Path = Field(
        default_factory=Path.cwd,
        validation_alias=_env("AUTOPACK_WORKSPACE"),
        description="The git repository Autopack works on.",
    )
    workspace_url: SecretStr | None = Field(
        default=None,
        validation_alias=_env("AUTOPACK_WORKSPACE_URL"),
        description="A git remote (https://, ssh://, user@host:path, file://) that runs "
        "whose spec names no URL work on: workers clone it under <data_dir>/repos and push "
        "autonomous/<run_id> after each phase. May carry credentials (a secret; *_FILE "
        "works); they are never stored or shown. Checked when a run opens its workspace "
        "(autopack.workspace.remote.remote_for), like every secret read as a plain string.",
    )
    data_dir_override: Path | None = Field(
        default=None,
        validation_alias=_env("AUTOPACK_DATA_DIR"),
        description="Where the database, worktrees and artifacts live "
        "(default: <workspace>/.autopack).",
    )
    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=_env("DATABASE_URL"),
        description="SQLAlchemy URL; default a SQLite file in the data directory.",
    )
    api_key: SecretStr | None = Field(default=None, validation_alias=_env("AUTOPACK_API_KEY"))
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_API_KEY")
    )
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_env("OPENAI_API_KEY"))
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_BASE_URL")
    )
    openai_base_url: str | None = Field(default=None, validation_alias=_env("OPENAI_BASE_URL"))
    skip_ci: bool = Field(default=False, validation_alias=_env("AUTOPACK_SKIP_CI"))
    enable_memory: bool = Field(default=False, validation_alias=_env("AUTOPACK_ENABLE_MEMORY"))
    qdrant_host: str | None = Field(default=None, validation_alias=_env("QDRANT_HOST"))
    memory_backend: Literal["auto", "fts", "qdrant"] = Field(
        default="auto",
        validation_alias=_env("AUTOPACK_MEMORY_BACKEND"),
        description="Retrieval memory store: fts (SQLite FTS5, <data_dir>/memory.sqlite3), "
        "qdrant (extra memory-qdrant: QDRANT_HOST, else embedded in <data_dir>/qdrant), or "
        "auto (qdrant when QDRANT_HOST is set, else fts).",
    )
    memory_index_docs: bool = Field(
        default=False,
        validation_alias=_env("AUTOPACK_MEMORY_INDEX_DOCS"),
        description="With memory on: index the project's source-of-truth docs at run start.",
    )
    memory_docs: str | None = Field(
        default=None,
        validation_alias=_env("AUTOPACK_MEMORY_DOCS"),
        description="Comma-separated docs to index (default: BUILD_HISTORY, DEBUG_LOG, "
        "ARCHITECTURE_DECISIONS, FUTURE_PLAN ... at the root or under docs/).",
    )
    memory_builder_tokens: int = Field(
        default=2_000,
        ge=0,
        validation_alias=_env("AUTOPACK_MEMORY_BUILDER_TOKENS"),
        description="Budget of memory notes in a Builder prompt.",
    )
    memory_doctor_tokens: int = Field(
        default=1_000,
        ge=0,
        validation_alias=_env("AUTOPACK_MEMORY_DOCTOR_TOKENS"),
        description="Budget of memory notes in a Doctor prompt.",
    )
    telemetry_db_enabled: bool = Field(default=False, validation_alias=_env("TELEMETRY_DB_ENABLED"))
    strategy_file: Path | None = Field(
        default=None,
        validation_alias=_env("AUTOPACK_STRATEGY_FILE"),
        description="Strategy overrides (default: <data_dir>/strategy.yaml when present).",
    )
    models_file: Path | None = Field(
        default=None,
        validation_alias=_env("AUTOPACK_MODELS_FILE"),
        description="Model registry overrides (default: <data_dir>/models.yaml when present).",
    )
    governance_file: Path | None = Field(
        default=None,
        validation_alias=_env("AUTOPACK_GOVERNANCE_FILE"),
        description="Governance additions (default: <data_dir>/governance.yaml when present).",
    )
    auto_migrate: bool = Field(
        default=True,
        validation_alias=_env("AUTOPACK_AUTO_MIGRATE"),
        description="Upgrade the database schema automatically on first use.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000, ge=0, validation_alias=_env("AUTOPACK_SQLITE_BUSY_TIMEOUT_MS")
    )
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias=_env("AUTOPACK_LEASE_SECONDS"),
        description="How long a worker's lease on a run lasts without a heartbeat; another "
        "worker (or `autopack resume`) may take the run over after that.",
    )
    log_level: str = Field(default="INFO", validation_alias=_env("AUTOPACK_LOG_LEVEL"))
    anonymous_read: bool = Field(
        default=False,
        validation_alias=_env("AUTOPACK_ANONYMOUS_READ"),
        description="`autopack serve`: let requests without a key read (never change) runs; "
        "honoured only while the server listens on 127.0.0.1 or ::1.",
    )
    cors_origins: str | None = Field(
        default=None,
        validation_alias=_env("AUTOPACK_CORS_ORIGINS"),
        description="`autopack serve`: comma-separated origins allowed by CORS (default: none, "
        "CORS closed).",
    )
    api_workers: int = Field(
        default=4,
        ge=1,
        le=64,
        validation_alias=_env("AUTOPACK_API_WORKERS"),
        description="`autopack serve`: runs executed at the same time by the server.",
    )
    dispatch: Literal["inprocess", "queue"] = Field(
        default="inprocess",
        validation_alias=_env("AUTOPACK_DISPATCH"),
        description="Where the API's runs execute: inprocess (the server's own threads, the "
        "default on every database) or queue (jobs on a PostgreSQL queue, executed by "
        "`autopack worker` processes on any machine; needs a PostgreSQL DATABASE_URL).",
    )
    auth_failure_limit: str = Field(
        default="10/minute",
        validation_alias=_env("AUTOPACK_AUTH_FAILURE_LIMIT"),
        description="`autopack serve`: failed authentications allowed per client address "
        "(e.g. 10/minute) before it gets 429.",
    )

    @field_validator(
        "skip_ci",
        "enable_memory",
        "memory_index_docs",
        "telemetry_db_enabled",
        "auto_migrate",
        "anonymous_read",
        mode="before",
    )
    @classmethod
    def _bool(cls, value: Any) -> bool:
        return parse_bool(value)

    @model_validator(mode="after")
    def _queue_needs_postgres(self) -> Settings:
        if self.dispatch == "queue" and not self.resolved_database_url().startswith("postgres"):
            raise ValueError(
                "AUTOPACK_DISPATCH=queue needs a PostgreSQL DATABASE_URL (the queue lives there)"
            )
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"{value!r} is not a log level")
        return level

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = {k.upper(): v for k, v in os.environ.items()}
        return (init_settings, _SecretFileSource(settings_cls, environ), env_settings)

    @property
    def data_dir(self) -> Path:
        """The data directory (absolute)."""
        base = self.data_dir_override or (self.workspace / ".autopack")
        return base if base.is_absolute() else (self.workspace / base)

    def resolved_database_url(self) -> str:
        """The database URL to connect to, with the driver Autopack uses for each backend."""
        if self.database_url is None:
            return f"sqlite:///{self.data_dir / 'autopack.db'}"
        return normalize_database_url(self.database_url.get_secret_value())

    @field_validator("memory_backend", mode="before")
    @classmethod
    def _backend_name(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    def resolved_memory_backend(self) -> str:
        """``fts`` or ``qdrant``: ``auto`` means qdrant when ``QDRANT_HOST`` is set."""
        if self.memory_backend == "auto":
            return "qdrant" if self.qdrant_host else "fts"
        return self.memory_backend

    def memory_doc_list(self) -> list[str] | None:
        """``AUTOPACK_MEMORY_DOCS`` split on commas (``None``: the default list)."""
        if self.memory_docs is None:
            return None
        return [d.strip() for d in self.memory_docs.split(",") if d.strip()]

    def cors_origin_list(self) -> list[str]:
        """``AUTOPACK_CORS_ORIGINS`` split on commas (empty: CORS stays closed)."""
        return [o.strip() for o in (self.cors_origins or "").split(",") if o.strip()]

    def resolved_strategy_file(self) -> Path | None:
        """The project's strategy override file, if any."""
        if self.strategy_file is not None:
            return self.strategy_file
        candidate = self.data_dir / "strategy.yaml"
        return candidate if candidate.is_file() else None

    def resolved_models_file(self) -> Path | None:
        """The project's model registry overrides, if any."""
        if self.models_file is not None:
            return self.models_file
        candidate = self.data_dir / "models.yaml"
        return candidate if candidate.is_file() else None

    def resolved_governance_file(self) -> Path | None:
        """The project's governance file, if any."""
        if self.governance_file is not None:
            return self.governance_file
        candidate = self.data_dir / "governance.yaml"
        return candidate if candidate.is_file() else None

    def ensure_data_dir(self) -> Path:
        """Create the data directory, ignored by git whatever the user's .gitignore says."""
        path = self.data_dir
        path.mkdir(parents=True, exist_ok=True)
        ignore = path / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Autopack's data directory: never committed.\n*\n")
        return path


def normalize_database_url(url: str) -> str:
    """Map ``postgres://``/``postgresql://`` onto psycopg 3; leave other URLs alone."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def read_secret_variable(name: str, environ: Mapping[str, str] | None = None) -> SecretStr | None:
    """A secret named at run time (a provider's ``api_key_env``), with the same precedence as
    the built-in ones: the file named by ``<name>_FILE`` wins over ``<name>`` itself."""
    env = os.environ if environ is None else environ
    path = env.get(f"{name}_FILE", "").strip()
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE: cannot read {path!r}: {exc.strerror}") from exc
    else:
        value = env.get(name, "").strip()
    return SecretStr(value) if value else None


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment; keyword overrides win (used by tests and CLI)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(lines)) from exc
