#!/usr/bin/env python3
"""Offline hassfest-style and HACS-style checks of the repository (no network, no Docker).

What hassfest (home-assistant/core script/hassfest) and the HACS action
(hacs/action) check that can be checked here without their containers:

* manifest.json: ``domain`` and ``name`` first, the other keys sorted (hassfest's
  manifest sort rule), the keys a custom integration must have (``version`` as a valid
  version, ``documentation`` and ``issue_tracker`` URLs, ``codeowners`` handles), known
  ``iot_class`` and ``integration_type``, pinned requirements, ``usb`` in the
  (after-)dependencies of an integration with usb matchers (as every core one has);
* hacs.json: only keys HACS documents (https://hacs.xyz/docs/publish/start#hacsjson;
  ``render_readme`` is no longer among them), ``name`` present, ``homeassistant`` a version
  no newer than the Home Assistant the tests pin and stated in the README;
* translations: en, nl and de have the same keys and placeholders, only sections and step
  keys that hassfest's translation schema allows, snake_case keys, no empty strings;
* icons.json: ``mdi:`` icons under ``entity.<platform>.<translation key>``;
* brand/: icon.png 256x256, icon@2x.png 512x512, logo.png with its shortest side
  128-256 px, logo@2x.png 256-512 px, PNG with transparency (home-assistant/brands rules);
* quality_scale.yaml: parses, every rule ``done`` or ``exempt`` with a comment;
* HACS layout: one integration under custom_components/, README.md and hacs.json at the
  root.

Usage: ``scripts/check_offline.py`` (exit status 1 and one line per problem on failure).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys
from typing import Any

from awesomeversion import AwesomeVersion
from PIL import Image
import yaml

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / "pv_monitor"
LANGUAGES = ("en", "nl", "de")
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
}
SECTIONS = {
    "title",
    "config",
    "options",
    "config_subentries",
    "selector",
    "issues",
    "exceptions",
    "entity",
    "services",
    "device",
    "device_automation",
    "entity_component",
    "system_health",
    "common",
}
STEP_KEYS = {
    "title",
    "description",
    "data",
    "data_description",
    "menu_options",
    "menu_option_descriptions",
    "sections",
    "submit",
}
FLOW_KEYS = {
    "step",
    "error",
    "abort",
    "progress",
    "create_entry",
    "initiate_flow",
    "entry_type",
    "flow_title",
}
BRAND_SIZES = {"icon.png": (256, 256), "icon@2x.png": (512, 512)}
LOGO_SHORT_SIDE = {"logo.png": (128, 256), "logo@2x.png": (256, 512)}
_SNAKE = re.compile(r"^[a-z0-9_]+$")
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def check_manifest(manifest: dict[str, Any]) -> list[str]:
    """The manifest rules of hassfest that apply to a custom integration."""
    errors: list[str] = []
    keys = list(manifest)
    if keys[:2] != ["domain", "name"] or keys[2:] != sorted(keys[2:]):
        errors.append("manifest.json: keys must be domain, name, then sorted alphabetically")
    required = ("codeowners", "config_flow", "documentation", "iot_class", "issue_tracker")
    errors += [f"manifest.json: {key} missing" for key in required if key not in manifest]
    if not AwesomeVersion(str(manifest.get("version", ""))).valid:
        errors.append("manifest.json: version missing or not a version")
    errors += [
        f"manifest.json: {key} is not an https URL"
        for key in ("documentation", "issue_tracker")
        if not str(manifest.get(key, "")).startswith("https://")
    ]
    if any(not str(owner).startswith("@") for owner in manifest.get("codeowners", [])):
        errors.append("manifest.json: codeowners must be GitHub handles (@name)")
    if manifest.get("iot_class") not in IOT_CLASSES:
        errors.append("manifest.json: unknown iot_class")
    if manifest.get("integration_type", "hub") not in INTEGRATION_TYPES:
        errors.append("manifest.json: unknown integration_type")
    deps = [*manifest.get("dependencies", []), *manifest.get("after_dependencies", [])]
    if manifest.get("usb") and "usb" not in deps:
        errors.append("manifest.json: usb matchers need usb in (after_)dependencies")
    errors += [
        f"manifest.json: requirement {req} is not pinned"
        for req in manifest.get("requirements", [])
        if "==" not in req
    ]
    return errors


def check_hacs(hacs: dict[str, Any], ha_version: str, readme: str) -> list[str]:
    """hacs.json against HACS's documented keys and the Home Assistant we test with."""
    errors = [f"hacs.json: unknown key {key}" for key in hacs if key not in HACS_KEYS]
    if not hacs.get("name"):
        errors.append("hacs.json: name missing")
    minimum = AwesomeVersion(str(hacs.get("homeassistant", "")))
    if not minimum.valid:
        errors.append("hacs.json: homeassistant missing or not a version")
    elif minimum > AwesomeVersion(ha_version):
        errors.append(f"hacs.json: homeassistant {minimum} is newer than the tested {ha_version}")
    elif f"Home Assistant {minimum.major}.{minimum.minor}" not in readme:
        errors.append("hacs.json: the homeassistant minimum is not stated in README.md")
    return errors


def _flatten(node: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(node, dict):
        out: dict[str, str] = {}
        for key, value in node.items():
            out |= _flatten(value, f"{prefix}/{key}")
        return out
    return {prefix: node}


def _check_flow(name: str, flow: dict[str, Any]) -> list[str]:
    errors = [f"{name}: unknown key {key}" for key in flow if key not in FLOW_KEYS]
    for step_id, step in flow.get("step", {}).items():
        errors += [f"{name}.step.{step_id}: unknown key {k}" for k in step if k not in STEP_KEYS]
    return errors


def check_translations(strings: dict[str, dict[str, Any]]) -> list[str]:
    """Structure of en (the source) and the same keys and placeholders in every language."""
    en = strings["en"]
    errors = [f"en.json: unknown section {key}" for key in en if key not in SECTIONS]
    for section in ("config", "options"):
        errors += _check_flow(section, en.get(section, {}))
    for sub_id, sub in en.get("config_subentries", {}).items():
        errors += _check_flow(f"config_subentries.{sub_id}", sub)
    for issue_id, issue in en.get("issues", {}).items():
        if "title" not in issue or ("description" in issue) == ("fix_flow" in issue):
            errors.append(f"issues.{issue_id}: needs a title and a description or a fix_flow")
        errors += _check_flow(f"issues.{issue_id}.fix_flow", issue.get("fix_flow", {}))
    for exc_id, exc in en.get("exceptions", {}).items():
        if set(exc) != {"message"}:
            errors.append(f"exceptions.{exc_id}: only a message")
    flat = {lang: _flatten(data) for lang, data in strings.items()}
    for path, text in flat["en"].items():
        if not all(_SNAKE.match(part) for part in path.split("/")[1:3]):
            errors.append(f"en.json{path}: keys must be snake_case")
        if not isinstance(text, str) or not text.strip():
            errors.append(f"en.json{path}: empty")
    for lang in LANGUAGES[1:]:
        if set(flat[lang]) != set(flat["en"]):
            errors.append(f"{lang}.json: keys differ from en.json")
            continue
        for path, text in flat["en"].items():
            if set(_PLACEHOLDER.findall(flat[lang][path])) != set(_PLACEHOLDER.findall(text)):
                errors.append(f"{lang}.json{path}: placeholders differ from en.json")
    return errors


def check_icons(icons: dict[str, Any]) -> list[str]:
    """Every entity icon is an ``mdi:`` icon, as a default with optional states."""
    errors = []
    for platform, entities in icons.get("entity", {}).items():
        for key, spec in entities.items():
            found = [spec.get("default", ""), *spec.get("state", {}).values()]
            if not all(str(i).startswith("mdi:") for i in found) or "default" not in spec:
                errors.append(f"icons.json: entity.{platform}.{key} needs mdi: icons")
    return errors


def check_brand(brand: Path) -> list[str]:
    """The brand images HA serves for a custom integration, at the sizes of the rules."""
    errors = []
    for name, size in BRAND_SIZES.items():
        errors += _image(brand / name, lambda w, h, s=size: (w, h) == s, f"{size[0]}x{size[1]}")
    for name, (low, high) in LOGO_SHORT_SIDE.items():
        errors += _image(
            brand / name,
            lambda w, h, lo=low, hi=high: lo <= min(w, h) <= hi,
            f"shortest side {low}-{high} px",
        )
    return errors


def _image(path: Path, fits: Any, rule: str) -> list[str]:
    if not path.is_file():
        return [f"brand/{path.name}: missing"]
    with Image.open(path) as img:
        if img.format != "PNG" or img.mode != "RGBA":
            return [f"brand/{path.name}: must be a PNG with transparency"]
        if not fits(*img.size):
            return [f"brand/{path.name}: {img.size[0]}x{img.size[1]}, needs {rule}"]
    return []


def check_quality_scale(scale: dict[str, Any]) -> list[str]:
    """Every rule done, or exempt with a comment."""
    errors = []
    for rule, value in scale.get("rules", {}).items():
        status = value if isinstance(value, str) else value.get("status")
        if status not in ("done", "exempt"):
            errors.append(f"quality_scale.yaml: {rule} is {status}")
        if status == "exempt" and not str(value.get("comment", "")).strip():
            errors.append(f"quality_scale.yaml: {rule} is exempt without a comment")
    return errors


def check_all(root: Path = ROOT) -> list[str]:
    """Every check over the repository at ``root``; the problems found."""
    integration = root / "custom_components" / "pv_monitor"
    readme = (root / "README.md").read_text()
    pins = (root / "requirements_test.txt").read_text()
    match = re.search(r"homeassistant (\d{4}\.\d+\.\d+)", pins)
    ha_version = match.group(1) if match else "0"
    strings = {
        lang: json.loads((integration / "translations" / f"{lang}.json").read_text())
        for lang in LANGUAGES
    }
    errors = check_manifest(json.loads((integration / "manifest.json").read_text()))
    errors += check_hacs(json.loads((root / "hacs.json").read_text()), ha_version, readme)
    errors += check_translations(strings)
    errors += check_icons(json.loads((integration / "icons.json").read_text()))
    errors += check_brand(integration / "brand")
    errors += check_quality_scale(yaml.safe_load((integration / "quality_scale.yaml").read_text()))
    integrations = [p for p in (root / "custom_components").iterdir() if p.is_dir()]
    integrations = [p for p in integrations if not p.name.startswith("__")]
    if len(integrations) != 1:
        errors.append("HACS: exactly one integration under custom_components/")
    return errors


def main() -> int:
    """Print the problems; exit status 1 if there are any."""
    errors = check_all()
    for error in errors:
        print(f"check_offline: {error}", file=sys.stderr)
    if not errors:
        print("check_offline: manifest, hacs.json, translations, icons, brand, scale: ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
