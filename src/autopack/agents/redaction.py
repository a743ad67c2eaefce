"""Keeping secrets out of prompts: :class:`Redactor`.

Every prompt message is passed through a redactor before it leaves the agents layer. It
replaces, with ``[REDACTED:<kind>]``:

1. the value of every secret setting (each ``SecretStr`` of :class:`~autopack.settings.Settings`,
   i.e. the variables of ``SECRET_VARIABLES``; kind = the variable name), and for URL-shaped
   secrets (``DATABASE_URL``) the password inside the URL on its own as well;
2. the values found in the workspace's protected files (the governance deny patterns:
   ``.env*``, key files, credentials — kind ``env_file`` or ``key_file``): ``KEY=VALUE``,
   ``key: value`` and ``"key": "value"`` lines, and lines that are a single token;
3. private-key blocks (``-----BEGIN ... PRIVATE KEY-----`` to the matching END, or to the
   end of the text when the END line is missing);
4. well-known token shapes: Anthropic (``sk-ant-``), OpenAI (``sk-``), GitHub (``ghp_`` and
   friends, ``github_pat_``), AWS access key ids (``AKIA``/``ASIA``), Slack (``xox?-``).

Literal values shorter than 8 characters are not treated as secrets: replacing ``dev`` or
``true`` everywhere would mangle code without protecting anything worth protecting. Values are
replaced longest first, so a value containing another is redacted whole. Escaped forms of a
value (e.g. inside a JSON string with escapes) are not recognised.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from autopack.llm.base import Message
from autopack.policy.governance import GovernanceConfig, is_binary, matches
from autopack.settings import SECRET_VARIABLES, Settings

__all__ = ["MIN_SECRET_LENGTH", "SKIP_DIRS", "TOKEN_PATTERNS", "Redactor", "secrets_in_text"]

MIN_SECRET_LENGTH = 8

TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
            r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*\Z)",
            re.DOTALL,
        ),
    ),
    ("anthropic_key", re.compile(r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{16,}")),
    ("openai_key", re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}")),
    (
        "github_token",
        re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
    ),
    ("aws_access_key", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("slack_token", re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}")),
)

SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".autopack"})
"""Directories never walked when looking for files (VCS data, environments, caches)."""
_MAX_SECRET_FILE_BYTES = 256 * 1024
_MAX_FILES_SCANNED = 20_000
_ASSIGNMENT = re.compile(
    r"""^\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?:=|:)\s*(.*?)\s*,?\s*$"""
)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if " #" in value:  # an inline comment after an unquoted value
        value = value.split(" #", 1)[0].rstrip()
    return value


def secrets_in_text(text: str) -> list[str]:
    """Candidate secret values in a ``.env``/credentials/key file's text (see the docstring)."""
    found: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "//", "[", "-----")):
            continue
        match = _ASSIGNMENT.match(line)
        if match:
            found.append(_unquote(match.group(2)))
        elif " " not in line:
            found.append(line)
    return [v for v in found if len(v) >= MIN_SECRET_LENGTH]


def _url_password(value: str) -> str | None:
    if "://" not in value:
        return None
    try:
        password = urlsplit(value).password
    except ValueError:
        return None
    return unquote(password) if password else None


def _walk_protected(root: Path, deny: Sequence[str]) -> Iterable[tuple[str, Path]]:
    """Files under ``root`` matching a deny pattern (symlinks not followed)."""
    seen = 0
    for current, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            seen += 1
            if seen > _MAX_FILES_SCANNED:
                return
            path = Path(current) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() or not any(matches(p, rel) for p in deny):
                continue
            yield rel, path


@dataclass(frozen=True)
class Redactor:
    """Replaces known secret values and token shapes with ``[REDACTED:<kind>]``."""

    values: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """(value, kind) pairs, longest value first; kept out of ``repr`` so logs never show them."""

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, str]]) -> Redactor:
        """A redactor for the given (value, kind) pairs; short and duplicate values dropped."""
        best: dict[str, str] = {}
        for value, kind in pairs:
            value = value.strip()
            if len(value) >= MIN_SECRET_LENGTH and value not in best:
                best[value] = kind
        ordered = sorted(best.items(), key=lambda item: (-len(item[0]), item[0]))
        return cls(values=tuple(ordered))

    @classmethod
    def from_sources(
        cls,
        settings: Settings | None = None,
        workspace: Path | None = None,
        *,
        deny: Sequence[str] | None = None,
        extra: Iterable[str] = (),
    ) -> Redactor:
        """Secrets from the settings, the workspace's protected files and ``extra`` values.

        ``deny`` defaults to the packaged governance deny patterns.
        """
        pairs: list[tuple[str, str]] = [(v, "secret") for v in extra]
        if settings is not None:
            pairs.extend(cls._settings_pairs(settings))
        if workspace is not None:
            patterns = tuple(deny) if deny is not None else GovernanceConfig.load().deny
            pairs.extend(cls._workspace_pairs(Path(workspace), patterns))
        return cls.build(pairs)

    @staticmethod
    def _settings_pairs(settings: Settings) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for name in type(settings).model_fields:
            value = getattr(settings, name)
            if not isinstance(value, SecretStr):
                continue
            kind = SECRET_VARIABLES.get(name, name.upper())
            secret = value.get_secret_value()
            pairs.append((secret, kind))
            password = _url_password(secret)
            if password:
                pairs.append((password, kind))
        return pairs

    @staticmethod
    def _workspace_pairs(root: Path, deny: Sequence[str]) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for rel, path in _walk_protected(root, deny):
            try:
                if path.stat().st_size > _MAX_SECRET_FILE_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if is_binary(data):
                continue
            kind = "env_file" if Path(rel).name.startswith(".env") else "key_file"
            for value in secrets_in_text(data.decode("utf-8")):
                pairs.append((value, kind))
                password = _url_password(value)
                if password:
                    pairs.append((password, kind))
        return pairs

    def redact(self, text: str) -> str:
        """``text`` with every known value and token shape replaced."""
        for value, kind in self.values:
            if value in text:
                text = text.replace(value, f"[REDACTED:{kind}]")
        for kind, pattern in TOKEN_PATTERNS:
            text = pattern.sub(f"[REDACTED:{kind}]", text)
        return text

    def messages(self, messages: Sequence[Message]) -> list[Message]:
        """Every message with its content redacted (roles unchanged)."""
        return [Message(role=m.role, content=self.redact(m.content)) for m in messages]
