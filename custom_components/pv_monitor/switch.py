"""The switch platform: each kind's own set-up, as its package declares it."""

from homeassistant.const import Platform

from .common.runtime import kind_platform_setup

PARALLEL_UPDATES = 0

async_setup_entry = kind_platform_setup(Platform.SWITCH)
