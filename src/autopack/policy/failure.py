"""What a failed attempt looks like to failure hardening, and the mitigations it may propose.

:class:`Failure` gathers what is known (failing text, structured codes, check status);
:class:`Diagnosis` names a recognised pattern with a :class:`Mitigation`. An ``env_fix``
command is built only from :data:`ALLOWED_COMMANDS` plus one validated package name, and
:class:`Mitigation` refuses any other command, so no text from a failure (or a model) can
become a command line. See :mod:`autopack.policy.hardening` for the detectors.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = [
    "ALLOWED_COMMANDS",
    "CheckLike",
    "Diagnosis",
    "Failure",
    "Mitigation",
    "is_allowed_command",
    "npm_install_command",
    "pip_install_command",
]

ALLOWED_COMMANDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pip_install": ("python", "-m", "pip", "install"),
        "npm_install": ("npm", "install"),
    }
)
"""Every command prefix an ``env_fix`` may use; each takes exactly one package name."""

_MAX_TEXT = 200_000  # characters scanned: the head and tail of longer texts
_PY_PACKAGE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
_NPM_PACKAGE = re.compile(r"(?:@[a-z0-9][a-z0-9._~-]{0,100}/)?[a-z0-9][a-z0-9._~-]{0,100}")
_PY_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")

# Import names whose PyPI distribution is named differently.
_PYPI_NAMES: dict[str, str] = {
    "yaml": "PyYAML",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "PyJWT",
    "attr": "attrs",
    "git": "GitPython",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "serial": "pyserial",
    "zmq": "pyzmq",
    "docx": "python-docx",
    "magic": "python-magic",
    "MySQLdb": "mysqlclient",
}


class Mitigation(BaseModel):
    """What to do about a diagnosis. ``command`` is always allow-listed (checked here)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["hint", "env_fix", "routing"]
    hint: str
    command: list[str] | None = None
    routing: Literal["escalate"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Mitigation:
        if self.command is not None and not is_allowed_command(self.command):
            raise ValueError(f"command not allow-listed: {self.command!r}")
        if (self.kind == "env_fix") != (self.command is not None):
            raise ValueError("an env_fix needs a command, and only an env_fix has one")
        if (self.kind == "routing") != (self.routing is not None):
            raise ValueError("a routing mitigation needs a routing change, and only it has one")
        return self


class Diagnosis(BaseModel):
    """One recognised failure pattern, with evidence and a mitigation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    """Stable identifier for telemetry, e.g. ``missing_python_dependency``."""
    summary: str
    evidence: str = ""
    """The line (trimmed) that matched, or the structured code."""
    mitigation: Mitigation
    package: str | None = None
    """The package a dependency diagnosis names (to cross-check with declared dependencies)."""

    def telemetry(self) -> dict[str, Any]:
        """A JSON-ready record for the telemetry/event log."""
        return {
            "code": self.code,
            "mitigation": self.mitigation.kind,
            "command": self.mitigation.command,
            "routing": self.mitigation.routing,
            "package": self.package,
        }


_FIELDS = ("text", "error_class", "codes", "check_status", "check_kind", "returncode", "cwd")


class CheckLike(Protocol):
    """What :meth:`Failure.from_check` reads from a check report (no import of ``checks``)."""

    status: Any
    kind: str
    returncode: int | None
    cwd: str | None
    output_tail: str
    failure_details: Mapping[str, str]


@dataclass(frozen=True)
class Failure:
    """What is known about a failed attempt; every field is optional."""

    text: str = ""
    error_class: str | None = None
    codes: tuple[str, ...] = ()
    check_status: str | None = None
    check_kind: str | None = None
    returncode: int | None = None
    cwd: str | None = None
    _scan: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalise rather than trust: diagnosis must never fail on a malformed record.
        text = self.text if isinstance(self.text, str) else ""
        codes = self.codes if isinstance(self.codes, list | tuple | set | frozenset) else ()
        set_ = object.__setattr__
        set_(self, "text", text)
        set_(self, "codes", tuple(c for c in codes if isinstance(c, str)))
        for name in ("error_class", "check_status", "check_kind", "cwd"):
            set_(self, name, _str(getattr(self, name)))
        set_(self, "returncode", _int(self.returncode))
        scan = text if len(text) <= _MAX_TEXT else _clip(text)
        set_(self, "_scan", "\n".join(filter(None, [self.error_class or "", scan])))

    @classmethod
    def coerce(cls, value: object) -> Failure:
        """A :class:`Failure` from a Failure, a string, a mapping of its fields, or anything."""
        if isinstance(value, Failure):
            return value
        if isinstance(value, str):
            return cls(text=value)
        if not isinstance(value, Mapping):
            return cls()
        return cls(**{k: value[k] for k in _FIELDS if k in value})

    @classmethod
    def from_check(cls, report: CheckLike, *, codes: tuple[str, ...] = ()) -> Failure:
        """A failure from a check report (a ``CheckReport`` or anything shaped like one)."""
        details = "\n".join(report.failure_details.values())
        return cls(
            text=f"{details}\n{report.output_tail}" if details else report.output_tail,
            codes=codes,
            check_status=str(report.status),
            check_kind=report.kind,
            returncode=report.returncode,
            cwd=report.cwd,
        )

    def lines(self) -> Iterator[str]:
        """The scanned text, line by line."""
        return iter(self._scan.splitlines())

    def has_code(self, *codes: str) -> str | None:
        """The first of ``codes`` among the structured codes or in the text as rendered.

        The rendered forms are those of the edit engine (``reason [no_match]``), integrity
        checks (``reason (integrity.python_syntax)``) and governance (``refused by rule
        scope.outside``); a pytest id such as ``test_apply[no_match]`` does not count.
        """
        scan = self._scan
        for code in codes:
            if code in self.codes:
                return code
            if f" [{code}]" in scan or f"({code})" in scan or f"rule {code}" in scan:
                return code
        return None


def _clip(text: str) -> str:
    half = _MAX_TEXT // 2
    return f"{text[:half]}\n...\n{text[-half:]}"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pip_install_command(module: str) -> list[str] | None:
    """``python -m pip install <dist>`` for an import name, or ``None`` when not safe.

    Refuses anything that is not a plain top-level module name (paths, shell
    metacharacters, options such as ``--index-url``), standard-library and private modules.
    """
    top = module.split(".", 1)[0]
    if not _PY_MODULE.fullmatch(top) or top.startswith("_"):
        return None
    if top in sys.stdlib_module_names:
        return None
    dist = _PYPI_NAMES.get(top, top.replace("_", "-"))
    if not _PY_PACKAGE.fullmatch(dist):
        return None
    return [*ALLOWED_COMMANDS["pip_install"], dist]


def npm_install_command(module: str) -> list[str] | None:
    """``npm install <package>`` for a bare module specifier, or ``None`` when not safe."""
    parts = module.split("/")
    name = "/".join(parts[:2]) if module.startswith("@") else parts[0]
    if len(name) > 214 or not _NPM_PACKAGE.fullmatch(name) or name.startswith("node:"):
        return None
    return [*ALLOWED_COMMANDS["npm_install"], name]


def is_allowed_command(command: list[str] | tuple[str, ...]) -> bool:
    """Whether ``command`` is an allow-listed prefix followed by one valid package name."""
    for prefix in ALLOWED_COMMANDS.values():
        n = len(prefix)
        if tuple(command[:n]) == prefix and len(command) == n + 1:
            arg = command[n]
            pattern = _PY_PACKAGE if prefix[0] == "python" else _NPM_PACKAGE
            return isinstance(arg, str) and bool(pattern.fullmatch(arg)) and len(arg) <= 214
    return False
