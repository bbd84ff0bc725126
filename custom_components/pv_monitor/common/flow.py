"""Config-flow pieces every kind builds the same way: number boxes, choices, one-form options."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final, cast

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.util.network import is_host_valid
import voluptuous as vol

ERROR_INVALID_HOST: Final = "invalid_host"
"""Form error: not a host name or IP address (translations ``config.error.invalid_host``)."""


def checked_host(user_input: Mapping[str, Any], field: str, errors: dict[str, str]) -> str:
    """``user_input[field]`` without surrounding blanks; ``errors[field]`` set if no host.

    Syntax only (:func:`homeassistant.util.network.is_host_valid`): the host may be
    unreachable, or DNS offline, while the form is filled in.
    """
    host = str(user_input[field]).strip()
    if not is_host_valid(host):
        errors[field] = ERROR_INVALID_HOST
    return host


def number_box(
    minimum: float, maximum: float, step: float = 1, unit: str | None = None
) -> NumberSelector:
    """A number typed into a box (not a slider) from ``minimum`` to ``maximum`` in ``step``s.

    ``unit`` is the label shown next to the box (``"s"``, ``"W"``, ``"kW"``); None for none.
    """
    config = NumberSelectorConfig(min=minimum, max=maximum, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def choice(
    options: Iterable[str | SelectOptionDict],
    *,
    translation_key: str | None = None,
    dropdown: bool = False,
    **config: Any,
) -> SelectSelector:
    """One (or with ``multiple=True`` several) of ``options``, as radio buttons or a dropdown.

    Plain string options are labelled by ``translation_key``'s ``options`` texts; labelled
    ones (:class:`SelectOptionDict`) show their own label. ``config``: further
    :class:`SelectSelectorConfig` keys (``multiple``, ``custom_value``).
    """
    selector_config: dict[str, Any] = {
        "options": list(options),
        "mode": SelectSelectorMode.DROPDOWN if dropdown else SelectSelectorMode.LIST,
        **config,
    }
    if translation_key is not None:
        selector_config["translation_key"] = translation_key
    return SelectSelector(cast(SelectSelectorConfig, selector_config))


def schema_defaults(schema: vol.Schema) -> dict[str, Any]:
    """``{field: default}`` of every field of ``schema`` that has a default.

    A new entry's options are its options form's defaults: one definition of both.
    """
    defaults: dict[str, Any] = {}
    for marker in schema.schema:
        default: Any = getattr(marker, "default", vol.UNDEFINED)
        if default is not vol.UNDEFINED:
            defaults[str(marker)] = default()
    return defaults


class KindFlowMixin(ConfigFlow):
    """Base of a kind's config-flow steps (mixins of the integration's one flow class)."""

    _kind_values: dict[str, dict[str, Any]]

    def kind_values(self, kind: str) -> dict[str, Any]:
        """The entry data a kind's steps have collected so far (its own dict, made on first use).

        Home Assistant creates the flow without the mixins' help, so there is no ``__init__``
        to set it up in.
        """
        if not hasattr(self, "_kind_values"):
            self._kind_values = {}
        return self._kind_values.setdefault(kind, {})

    def async_show_step(
        self,
        step_id: str,
        schema: vol.Schema,
        values: Mapping[str, Any] | None,
        errors: dict[str, str],
        **kwargs: Any,
    ) -> ConfigFlowResult:
        """Show form ``step_id`` filled in with ``values`` (what was entered, or the entry's).

        ``kwargs``: further :meth:`async_show_form` arguments (``description_placeholders``).
        """
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, values),
            errors=errors,
            **kwargs,
        )


class OneFormOptionsFlow(OptionsFlow):
    """An options flow of one form, shown with the entry's present options.

    A kind sets :attr:`options_step` (its step id, so that the form's texts are its own) and
    :attr:`options_schema` (fields with their defaults), and binds
    ``async_step_<options_step> = OneFormOptionsFlow.async_options_step``; it may convert
    the submitted values in :meth:`options_data`.
    """

    options_step: ClassVar[str]
    options_schema: ClassVar[vol.Schema]

    def options_data(self, user_input: dict[str, Any]) -> dict[str, Any]:
        """The options to save from the submitted form (as submitted by default)."""
        return user_input

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Start at the kind's own options step."""
        return await self.async_options_step(user_input)

    async def async_options_step(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the form with the present options; save what is submitted."""
        if user_input is not None:
            return self.async_create_entry(data=self.options_data(user_input))
        return self.async_show_form(
            step_id=self.options_step,
            data_schema=self.add_suggested_values_to_schema(
                self.options_schema, dict(self.config_entry.options)
            ),
        )
