"""Repair issues of this integration: one call with the project's defaults.

Every kind raises repair issues for the same few situations (a confirmed counter reset, a
stale or unreachable source, a limit reached, an offer such as the Energy set-up); they all
live in this integration's domain, use the issue id as their identity and are warnings that
are not fixable unless said otherwise (Home Assistant's ``issue_registry`` API).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN


@callback
def async_raise_issue(
    hass: HomeAssistant,
    issue_id: str,
    translation_key: str,
    placeholders: Mapping[str, str] | None = None,
    *,
    fixable: bool = False,
    persistent: bool = False,
    data: dict[str, Any] | None = None,
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING,
    learn_more_url: str | None = None,
) -> None:
    """Create (or update) the repair issue ``issue_id`` of this integration.

    Args:
        hass: Home Assistant.
        issue_id: the issue's identity; raising it again replaces its placeholders.
        translation_key: key under ``issues`` in the translations.
        placeholders: values of the translation's placeholders.
        fixable: whether the kind's ``repairs.py`` offers a fix flow (then ``data`` tells
            it which entry).
        persistent: whether the issue survives a restart of Home Assistant.
        data: passed to the fix flow.
        severity: WARNING unless the integration stopped working (ERROR).
        learn_more_url: a page that explains the issue.
    """
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=fixable,
        is_persistent=persistent,
        data=data,
        severity=severity,
        translation_key=translation_key,
        translation_placeholders=dict(placeholders) if placeholders is not None else None,
        learn_more_url=learn_more_url,
    )
