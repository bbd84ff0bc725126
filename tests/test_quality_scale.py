"""quality_scale.yaml: every rule of HA's scale done or exempt, and the rules a machine can check.

The list of rules is not ours: it is read from the quality_scale.yaml of core's homewizard
integration (platinum) in the installed Home Assistant. The mechanically checkable rules:

* config-flow: a ``data_description`` for every form field of every step (config, options,
  subentries, repair fix flows) in en, nl and de, and every schema field of the flow modules
  has a label;
* entity-translations: every entity description's ``translation_key`` is translated;
* icon-translations: every entity without a device class (and no fixed icon) has an icon,
  and icons.json names no entity that does not exist;
* exception-translations: every Home Assistant exception raised, and every repair issue
  created, carries a translation key that exists;
* parallel-updates: ``PARALLEL_UPDATES`` in every platform module HA loads;
* diagnostics: tests/test_diagnostics_redaction.py (one test per kind);
* brands: tests/test_offline_checks.py (scripts/check_offline).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import importlib
import json
from pathlib import Path
import pkgutil
from typing import Any

import homeassistant.components as core_components
import pytest
import voluptuous as vol
import yaml

import custom_components.pv_monitor as integration
from custom_components.pv_monitor.const import EntryKind

from . import test_diagnostics_redaction as redaction

ROOT = Path(integration.__file__).parent
LANGUAGES = ("en", "nl", "de")
PLATFORMS = ("sensor", "binary_sensor", "switch", "select", "number")
HA_EXCEPTIONS = {
    "HomeAssistantError",
    "ServiceValidationError",
    "ConfigEntryNotReady",
    "ConfigEntryAuthFailed",
    "ConfigEntryError",
    "UpdateFailed",
}
DESCRIPTION_CLASSES = {
    "binary_sensor": "BinarySensorEntityDescription",
    "sensor": "SensorEntityDescription",
    "switch": "SwitchEntityDescription",
    "select": "SelectEntityDescription",
    "number": "NumberEntityDescription",
}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "translations" / f"{name}.json").read_text())
    return data


def _modules() -> Iterator[Any]:
    for info in pkgutil.walk_packages(integration.__path__, integration.__name__ + "."):
        yield importlib.import_module(info.name)


def _descriptions() -> list[tuple[str, Any]]:
    """(platform, description) of every entity description held by a module."""
    found: dict[int, tuple[str, Any]] = {}

    def collect(obj: Any, depth: int = 0) -> None:
        names = {c.__name__ for c in type(obj).__mro__}
        if "EntityDescription" in names:  # HA's frozen-dataclass compat makes copies
            platform = next(p for p, cls in DESCRIPTION_CLASSES.items() if cls in names)
            found[id(obj)] = (platform, obj)
        elif depth < 3 and isinstance(obj, (list, tuple, set, frozenset)):
            for item in obj:
                collect(item, depth + 1)
        elif depth < 3 and isinstance(obj, dict):
            for item in obj.values():
                collect(item, depth + 1)

    for module in _modules():
        for value in vars(module).values():
            collect(value)
    return list(found.values())


def _steps(lang: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every form step of ``lang``: config, options, subentries, repair fix flows."""
    strings = _load(lang)
    for section in ("config", "options"):
        for step_id, step in strings[section]["step"].items():
            yield f"{section}.{step_id}", step
    for sub_id, sub in strings.get("config_subentries", {}).items():
        for step_id, step in sub["step"].items():
            yield f"config_subentries.{sub_id}.{step_id}", step
    for issue_id, issue in strings["issues"].items():
        for step_id, step in issue.get("fix_flow", {}).get("step", {}).items():
            yield f"issues.{issue_id}.{step_id}", step


def test_every_rule_done_or_exempt() -> None:
    """The 52 rules of core's scale, each done, or exempt with a reason."""
    core_file = Path(core_components.__file__).parent / "homewizard" / "quality_scale.yaml"
    core = yaml.safe_load(core_file.read_text())
    ours = yaml.safe_load((ROOT / "quality_scale.yaml").read_text())
    assert list(ours["rules"]) == list(core["rules"]) or set(ours["rules"]) == set(core["rules"])
    assert len(ours["rules"]) == 52
    counts = {"done": 0, "exempt": 0}
    for rule, value in ours["rules"].items():
        status = value if isinstance(value, str) else value["status"]
        assert status in counts, rule
        counts[status] += 1
        if status == "exempt":
            assert len(value["comment"].strip()) > 20, rule
    assert counts == {"done": 51, "exempt": 1}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_data_description_on_every_field(lang: str) -> None:
    """config-flow: every labelled field of every step is described."""
    missing = [
        f"{where}.{field}"
        for where, step in _steps(lang)
        for field in step.get("data", {})
        if field not in step.get("data_description", {})
    ]
    assert missing == []
    menu = _load(lang)["config"]["step"]["user"]
    assert set(menu["menu_option_descriptions"]) == set(menu["menu_options"])


def test_schema_fields_have_labels() -> None:
    """config-flow: every field of a module-level schema appears in some step's ``data``."""
    labelled = {field for _, step in _steps("en") for field in step.get("data", {})}
    fields: set[str] = set()
    for module in _modules():
        if not module.__name__.endswith(("flow", "repairs")):
            continue
        for value in vars(module).values():
            schema = value.schema if isinstance(value, vol.Schema) else value
            if isinstance(schema, dict):
                fields |= {str(k) for k in schema if isinstance(k, vol.Marker)}
    assert fields, "no schema found"
    assert fields - labelled == set()


def test_translation_files_have_the_same_keys() -> None:
    """nl and de translate exactly what en has (no missing, no stale keys)."""

    def keys(node: Any, prefix: str = "") -> set[str]:
        if not isinstance(node, dict):
            return {prefix}
        return set().union(*(keys(v, f"{prefix}/{k}") for k, v in node.items()))

    english = keys(_load("en"))
    for lang in LANGUAGES[1:]:
        assert keys(_load(lang)) ^ english == set(), lang


def test_entity_translations_and_icons() -> None:
    """entity-translations and icon-translations over every entity description."""
    icons = json.loads((ROOT / "icons.json").read_text())["entity"]
    descriptions = _descriptions()
    assert len(descriptions) > 100
    translated: set[tuple[str, str]] = set()
    for platform, description in descriptions:
        key = description.translation_key
        if key is not None:
            translated.add((platform, key))
            for lang in LANGUAGES:
                assert "name" in _load(lang)["entity"][platform][key], (lang, key)
        if getattr(description, "device_class", None) is None and description.icon is None:
            assert key is not None, description.key
            assert "default" in icons.get(platform, {}).get(key, {}), (platform, key)
    for platform, entities in icons.items():
        for key in entities:
            assert (platform, key) in translated, f"icons.json names no entity {platform}.{key}"


def _raised_and_issues() -> Iterator[tuple[str, str, ast.Call]]:
    """(file, kind, call): HA exceptions raised and repair issues created, with their call."""
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in HA_EXCEPTIONS:
                    yield rel, "exceptions", node.exc
            elif isinstance(node, ast.Call) and _name(node.func) in ISSUE_CALLS:
                yield rel, "issues", node


ISSUE_CALLS = ("async_create_issue", "create_issue", "async_raise_issue")
"""Home Assistant's issue registry calls and ours (``common/issues.py``, whose translation
key is its third argument)."""


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    value = next((k.value for k in call.keywords if k.arg == name), None)
    if value is None and name == "translation_key" and _name(call.func) == "async_raise_issue":
        return call.args[2] if len(call.args) > 2 else None
    return value


def test_exceptions_and_issues_translated() -> None:
    """exception-translations: a key that exists for each raise and each repair issue."""
    strings = _load("en")
    checked = 0
    for rel, section, call in _raised_and_issues():
        key = _keyword(call, "translation_key")
        assert key is not None, f"untranslated {section} in {rel}"
        checked += 1
        if section == "exceptions":
            domain = _keyword(call, "translation_domain")
            assert domain is not None, rel
        if isinstance(key, ast.Constant):
            assert key.value in strings[section], (rel, key.value)
        elif isinstance(key, ast.JoinedStr) and isinstance(key.values[0], ast.Constant):
            prefix = str(key.values[0].value)
            assert any(k.startswith(prefix) for k in strings[section]), (rel, prefix)
    assert checked >= 10


def test_parallel_updates_in_every_platform() -> None:
    """parallel-updates: in every platform module Home Assistant loads (the root ones, which
    dispatch to the kinds; a kind's own sensor.py is not a platform HA reads)."""
    for name in PLATFORMS:
        module = importlib.import_module(f"{integration.__name__}.{name}")
        assert isinstance(getattr(module, "PARALLEL_UPDATES", None), int), module.__name__


def test_diagnostics_redaction_tested_per_kind() -> None:
    """diagnostics: every kind has its no-secret-in-the-download test."""
    for kind in EntryKind:
        assert callable(getattr(redaction, f"test_{kind.value}", None)), kind
