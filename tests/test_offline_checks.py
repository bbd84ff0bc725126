"""scripts/check_offline.py: the repository passes, and each check catches what it is for.

The rules checked come from hassfest (manifest key order, translation schema: an issue has a
description or a fix flow, never both, as every core integration's en.json shows), HACS's
hacs.json documentation and home-assistant/brands' image sizes.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType

from PIL import Image
import pytest

SCRIPT = Path(__file__).parents[1] / "scripts" / "check_offline.py"


@pytest.fixture(scope="module")
def check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_offline", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_repository_passes(check: ModuleType) -> None:
    assert check.check_all() == []
    assert check.main() == 0


def test_manifest_rules(check: ModuleType) -> None:
    manifest = json.loads((check.INTEGRATION / "manifest.json").read_text())
    assert check.check_manifest(manifest) == []
    reordered = {"name": manifest["name"], "domain": manifest["domain"]} | manifest
    assert "keys must be domain, name" in check.check_manifest(reordered)[0]
    broken = manifest | {"version": "x.y", "requirements": ["crcmod"], "iot_class": "magic"}
    assert len(check.check_manifest(broken)) == 3
    assert check.check_manifest(manifest | {"codeowners": ["pv-monitor"]})
    assert check.check_manifest(manifest | {"after_dependencies": ["recorder"]}) == [
        "manifest.json: usb matchers need usb in (after_)dependencies"
    ]


def test_hacs_rules(check: ModuleType) -> None:
    readme = "Requires Home Assistant 2026.2 or newer."
    good = {"name": "PV Monitor", "homeassistant": "2026.2.0"}
    assert check.check_hacs(good, "2026.2.3", readme) == []
    assert check.check_hacs(good | {"render_readme": True}, "2026.2.3", readme) == [
        "hacs.json: unknown key render_readme"
    ]
    assert "newer than the tested" in check.check_hacs(good, "2026.1.0", readme)[0]
    assert "not stated in README" in check.check_hacs(good, "2026.2.3", "")[0]


def test_translation_rules(check: ModuleType) -> None:
    strings = {
        lang: json.loads((check.INTEGRATION / "translations" / f"{lang}.json").read_text())
        for lang in check.LANGUAGES
    }
    assert check.check_translations(strings) == []
    bad = copy.deepcopy(strings)
    bad["en"]["issues"]["port_unavailable"]["description"] = "both"
    del bad["nl"]["config"]["step"]["user"]["title"]
    errors = check.check_translations(bad)
    assert any("issues.port_unavailable" in e for e in errors)
    assert any(e.startswith("nl.json") for e in errors)
    bad = copy.deepcopy(strings)
    bad["de"]["exceptions"]["port_unavailable"]["message"] = "ohne Platzhalter"
    assert check.check_translations(bad) == [
        "de.json/exceptions/port_unavailable/message: placeholders differ from en.json"
    ]


def test_brand_rules(check: ModuleType, tmp_path: Path) -> None:
    assert check.check_brand(check.INTEGRATION / "brand") == []
    Image.new("RGBA", (200, 200)).save(tmp_path / "icon.png")
    Image.new("RGB", (512, 512)).save(tmp_path / "icon@2x.png")
    Image.new("RGBA", (600, 100)).save(tmp_path / "logo.png")
    errors = check.check_brand(tmp_path)
    assert errors == [
        "brand/icon.png: 200x200, needs 256x256",
        "brand/icon@2x.png: must be a PNG with transparency",
        "brand/logo.png: 600x100, needs shortest side 128-256 px",
        "brand/logo@2x.png: missing",
    ]


def test_icon_and_scale_rules(check: ModuleType) -> None:
    icons = {"entity": {"sensor": {"x": {"default": "alert"}}}}
    assert check.check_icons(icons) == ["icons.json: entity.sensor.x needs mdi: icons"]
    scale = {"rules": {"brands": "todo", "discovery": {"status": "exempt", "comment": ""}}}
    assert len(check.check_quality_scale(scale)) == 2
