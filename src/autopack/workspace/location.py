"""Where a run's repository lives: a local path, or a git remote URL (pure, no I/O).

Accepted remote forms: ``https://host/path``, ``ssh://[user@]host[:port]/path``,
``user@host:path`` (scp-like, as ``git@github.com:org/repo.git``) and ``file:///abs/path``.
Anything else that looks like a URL (``http://``, ``git://``, ``ftp://``…) is refused: plain
``http`` and ``git`` carry no transport security, and a typo should fail at validation, not
at the first fetch.

Credentials: an ``https`` URL's user-info (``user:token@`` or a bare ``token@``) and an
``ssh`` URL's password are credentials. :func:`strip_credentials` removes them (the result
is what Autopack shows, stores and writes into the mirror's git config);
:func:`redact_url` masks them in any text. A run spec never carries them (it is stored and
shown); a worker's ``AUTOPACK_WORKSPACE_URL`` may (see :mod:`autopack.workspace.remote`).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from autopack.workspace.errors import redact

__all__ = [
    "REMOTE_SCHEMES",
    "check_remote_url",
    "has_credentials",
    "is_remote",
    "redact_url",
    "same_repository",
    "slug",
    "strip_credentials",
]

REMOTE_SCHEMES = ("https", "ssh", "file")
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
# git's scp-like syntax: [user@]host:path, with no slash before the first colon.
_SCP = re.compile(r"^(?:(?P<user>[^@/:\s]+)@)?(?P<host>[^@/:\s]+):(?P<path>[^\s].*)$")
_SLUG_JUNK = re.compile(r"[^A-Za-z0-9._-]+")


def _scp(value: str) -> re.Match[str] | None:
    """An scp-like match; a one-letter "host" is a Windows drive (``C:\\x``), not a host."""
    if _SCHEME.match(value):
        return None
    match = _SCP.match(value)
    if match is None or len(match["host"]) == 1 or match["path"].startswith("\\"):
        return None
    return match


def is_remote(value: str) -> bool:
    """Whether ``value`` names a remote (any ``scheme://`` or ``user@host:path``), not a path.

    True for refused schemes too, so that :func:`check_remote_url` explains the refusal
    instead of the value being taken for a directory called ``ftp:``.
    """
    text = value.strip()
    return bool(_SCHEME.match(text) or _scp(text))


def check_remote_url(value: str, *, allow_credentials: bool = False) -> str:
    """``value`` stripped, if it is a usable remote URL; ``ValueError`` saying why not.

    Messages never contain the credentials (the URL is shown redacted).
    """
    text = value.strip()
    shown = redact_url(text)
    match = _SCHEME.match(text)
    if match is None:
        scp = _scp(text)
        if scp is None:
            raise ValueError(f"{shown!r} is not a git remote URL")
        if any(c.isspace() for c in text):
            raise ValueError(f"{shown!r}: a remote URL cannot contain whitespace")
        return text
    scheme = match["scheme"].lower()
    if scheme not in REMOTE_SCHEMES:
        raise ValueError(
            f"{shown!r}: unsupported URL scheme {scheme!r}; use https://, ssh://, "
            "user@host:path, file:// or a local path"
        )
    if any(c.isspace() for c in text):
        raise ValueError(f"{shown!r}: a remote URL cannot contain whitespace")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"{shown!r} is not a valid URL") from exc
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError(f"{shown!r}: a file:// URL needs an absolute path (file:///path)")
    elif not parts.hostname or parts.path in ("", "/"):
        raise ValueError(f"{shown!r}: a {scheme}:// URL needs a host and a repository path")
    if has_credentials(text) and not allow_credentials:
        raise ValueError(
            f"{shown!r} carries credentials; a run specification is stored and shown, so "
            "give the URL without them and let git find them (a credential helper, an ssh "
            "key) or set AUTOPACK_WORKSPACE_URL on the workers"
        )
    return text


def has_credentials(url: str) -> bool:
    """An https URL with user-info, or an ssh URL with a password."""
    match = _SCHEME.match(url.strip())
    if match is None:
        return False
    parts = urlsplit(url.strip())
    scheme = match["scheme"].lower()
    if scheme == "ssh":
        return parts.password is not None
    return "@" in parts.netloc


def strip_credentials(url: str) -> str:
    """``url`` without credentials (ssh keeps its user name: it is not a secret)."""
    text = url.strip()
    if not has_credentials(text):
        return text
    parts = urlsplit(text)
    host = parts.netloc.rpartition("@")[2]
    if parts.scheme.lower() == "ssh" and parts.username:
        host = f"{parts.username}@{host}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def redact_url(text: str) -> str:
    """``text`` with every ``scheme://user-info@`` masked (see :func:`.errors.redact`)."""
    return redact(text)


def same_repository(a: str, b: str) -> bool:
    """Whether two URLs name the same repository once credentials and a trailing
    ``/`` or ``.git`` are ignored."""

    def norm(url: str) -> str:
        return strip_credentials(url).rstrip("/").removesuffix(".git").lower()

    return norm(a) == norm(b)


def slug(url: str) -> str:
    """A directory name for ``url``'s mirror: readable host and path, plus a short hash.

    Computed from the credential-free URL, so a token never reaches the file system and a
    token rotation keeps the same mirror.
    """
    plain = strip_credentials(url)
    digest = hashlib.sha256(plain.encode("utf-8")).hexdigest()[:12]
    body = _SCHEME.sub("", plain).rpartition("@")[2] if "://" in plain else plain
    body = body.rpartition("@")[2] if _scp(plain) else body
    readable = _SLUG_JUNK.sub("-", body).strip("-.")[:60] or "repo"
    return f"{readable}-{digest}"
