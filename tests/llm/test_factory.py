"""make_provider: short names, lazy imports, dotted paths, useful errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autopack.llm import PROVIDERS, LlmError, ScriptedProvider, make_provider
from autopack.llm.anthropic_provider import AnthropicProvider
from autopack.llm.openai_provider import OpenAIProvider


def test_known_names(keyed_settings) -> None:
    assert set(PROVIDERS) == {"anthropic", "openai", "scripted"}
    assert isinstance(make_provider("anthropic", keyed_settings), AnthropicProvider)
    assert isinstance(make_provider("openai", keyed_settings), OpenAIProvider)


def test_unknown_name_lists_the_known_ones(settings) -> None:
    with pytest.raises(LlmError) as info:
        make_provider("gemini", settings)
    assert info.value.code == "unknown_provider"
    for name in PROVIDERS:
        assert name in str(info.value)


def test_dotted_path(settings) -> None:
    provider = make_provider(
        "autopack.llm.scripted.ScriptedProvider", settings, script=[{"text": "x"}]
    )
    assert isinstance(provider, ScriptedProvider)
    with pytest.raises(LlmError, match="cannot load"):
        make_provider("autopack.llm.nowhere.Thing", settings)


def test_options_reach_the_provider(keyed_settings) -> None:
    provider = make_provider("openai", keyed_settings, read_timeout=3.0, connect_timeout=1.0)
    assert provider.config.read_timeout == 3.0
    with pytest.raises(ValueError, match="colour"):
        make_provider("anthropic", keyed_settings, colour="red")


def test_sdk_imported_only_when_its_provider_is_built() -> None:
    code = (
        "import sys\n"
        "from autopack.llm import make_provider\n"
        "from autopack.settings import load_settings\n"
        "s = load_settings(anthropic_api_key='sk-ant-x-1234567890')\n"
        "before = sorted(m for m in ('anthropic', 'openai') if m in sys.modules)\n"
        "make_provider('scripted', s, script=[{'text': 'x'}])\n"
        "mid = sorted(m for m in ('anthropic', 'openai') if m in sys.modules)\n"
        "make_provider('anthropic', s)\n"
        "after = sorted(m for m in ('anthropic', 'openai') if m in sys.modules)\n"
        "print(before, mid, after)\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[] [] ['anthropic']"
