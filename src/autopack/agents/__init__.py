"""Builder, Auditor, Doctor: prompt templates, context assembly, reading model answers.

Every prompt is built from packaged Jinja2 templates (``prompts/*.j2``), assembled within a
token budget (:class:`ContextAssembler`, which reports what it dropped) and passed through a
:class:`Redactor` before it leaves this package: secret settings, ``.env``/key files and
well-known token shapes never reach a model. Prompts carry no timestamps or random ids.

Models are called through a :data:`ModelCall` (messages in, a ``Completion`` out) that the
engine binds to a provider, a model and the budget ledger. JSON answers are read by
:func:`ask_structured`: one corrective follow-up, then :class:`MalformedAnswerError`.

Exceptions (one tree; verdicts and decisions are values)::

    AgentError                root; every error has a stable ``code``
    ├── MalformedAnswerError  unusable JSON (or a truncated answer) after one follow-up
    └── PromptTemplateError   a packaged template is missing or uses an undefined variable
"""

from autopack.agents.auditor import (
    AUDITOR_PROFILES,
    AuditAnswer,
    AuditIssue,
    AuditRequest,
    DualAuditResult,
    Verdict,
    audit,
    build_auditor_messages,
    build_judge_messages,
    dual_audit,
)
from autopack.agents.builder import BuilderPrompt, acceptance_criteria, build_messages, error_texts
from autopack.agents.context import (
    AssembledContext,
    ContextAssembler,
    ContextConfig,
    ContextInputs,
    ContextSection,
    DroppedItem,
    FileMode,
)
from autopack.agents.doctor import (
    DoctorAction,
    DoctorDecision,
    FailedAttempt,
    FailureHistory,
    build_doctor_messages,
    check_command,
    diagnose,
    needs_strong_doctor,
)
from autopack.agents.errors import AgentError, MalformedAnswerError, PromptTemplateError
from autopack.agents.redaction import Redactor
from autopack.agents.structured import (
    JsonExtractionError,
    ModelCall,
    ask_structured,
    extract_json,
)

__all__ = [
    "AUDITOR_PROFILES",
    "AgentError",
    "AssembledContext",
    "AuditAnswer",
    "AuditIssue",
    "AuditRequest",
    "BuilderPrompt",
    "ContextAssembler",
    "ContextConfig",
    "ContextInputs",
    "ContextSection",
    "DoctorAction",
    "DoctorDecision",
    "DroppedItem",
    "DualAuditResult",
    "FailedAttempt",
    "FailureHistory",
    "FileMode",
    "JsonExtractionError",
    "MalformedAnswerError",
    "ModelCall",
    "PromptTemplateError",
    "Redactor",
    "Verdict",
    "acceptance_criteria",
    "ask_structured",
    "audit",
    "build_auditor_messages",
    "build_doctor_messages",
    "build_judge_messages",
    "build_messages",
    "check_command",
    "diagnose",
    "dual_audit",
    "error_texts",
    "extract_json",
    "needs_strong_doctor",
]
