"""A configured OpenAI-compatible provider gets its own key (``api_key_env``), never OpenAI's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autopack.engine import Engine
from autopack.settings import load_settings
from autopack.store import Store
from support.wire_servers import WireServer

LOCAL_KEY = "sk-router-0123456789abcdef"


def _engine(tmp_path: Path, wire: WireServer, *, key_env: str | None) -> Engine:
    provider: dict[str, object] = {"api": "openai", "base_url": wire.openai_url}
    if key_env:
        provider["api_key_env"] = key_env
    override = {
        "providers": {"router": provider},
        "models": {
            "router-small": {
                "provider": "router",
                "api_model": "small-1",
                "context_window": 32000,
                "max_output_tokens": 4000,
                "input_usd_per_mtok": 0.1,
                "output_usd_per_mtok": 0.2,
            }
        },
    }
    models = tmp_path / "models.yaml"
    models.write_text(yaml.safe_dump(override))
    settings = load_settings(
        workspace=tmp_path, models_file=models, openai_api_key="sk-openai-must-stay-home"
    )
    return Engine(settings, Store.open(settings))


def test_the_provider_sends_its_own_key_and_it_is_redacted(
    tmp_path: Path, wire: WireServer, make_request, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "router.key"
    key_file.write_text(LOCAL_KEY + "\n")
    monkeypatch.setenv("ROUTER_API_KEY", "sk-plain-variable-loses")
    monkeypatch.setenv("ROUTER_API_KEY_FILE", str(key_file))  # the _FILE twin wins
    engine = _engine(tmp_path, wire, key_env="ROUTER_API_KEY")
    try:
        provider = engine.provider_for(engine.router.model("router-small"))
        provider.complete(make_request())
        sent = wire.requests[0].headers["authorization"]
        assert sent == f"Bearer {LOCAL_KEY}"
        assert "sk-openai-must-stay-home" not in str(wire.requests[0].headers)
        assert LOCAL_KEY not in engine.redactor.redact(f"the key is {LOCAL_KEY}")
    finally:
        engine.store.close()


def test_without_its_own_key_openais_key_is_not_sent(
    tmp_path: Path, wire: WireServer, make_request
) -> None:
    engine = _engine(tmp_path, wire, key_env=None)
    try:
        engine.provider_for(engine.router.model("router-small")).complete(make_request())
        assert "sk-openai-must-stay-home" not in wire.requests[0].headers["authorization"]
    finally:
        engine.store.close()


def test_the_variable_name_is_checked(tmp_path: Path, wire: WireServer) -> None:
    from autopack.policy.models_config import ModelsConfigError

    with pytest.raises(ModelsConfigError, match="api_key_env"):
        _engine(tmp_path, wire, key_env="not a name")
