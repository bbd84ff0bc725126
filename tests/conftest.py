"""Shared fixtures of the PV Monitor tests.

Sockets: pytest-homeassistant-custom-component's ``pytest_runtest_setup`` hook calls
``pytest_socket.socket_allow_hosts(["127.0.0.1"])`` and then
``pytest_socket.disable_socket(allow_unix_socket=True)`` before every test. From then on
*creating* any non-Unix socket raises ``SocketBlockedError`` (a ``RuntimeError``, not an
``OSError``), so binding a listener or probing a port fails even on 127.0.0.1; the
``allow_hosts`` marker/list only restricts ``connect()`` and does not help there.
A test that needs real TCP sockets must request pytest-socket's ``socket_enabled`` fixture
(directly, via ``@pytest.mark.usefixtures("socket_enabled")``, or through ``free_port``
below, which requests it): it calls ``enable_socket()`` during fixture setup, which runs
after those hooks, and pytest-socket lifts it again at teardown. Connections are then
still limited to 127.0.0.1, so keep test traffic on loopback.
"""

from __future__ import annotations

from collections.abc import Generator
import socket
from unittest.mock import AsyncMock, PropertyMock, patch

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Let Home Assistant load the integrations in ``custom_components``."""
    yield  # noqa: PT022 - the usual Home Assistant custom-integration fixture shape


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, also those disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Replace ``async_setup_entry`` so that flows can create entries without a listener.

    ``create=True`` keeps the fixture usable while ``__init__.py`` lacks the function.
    """
    with patch(
        "custom_components.pv_monitor.async_setup_entry",
        new_callable=AsyncMock,
        return_value=True,
        create=True,
    ) as mock:
        yield mock


@pytest.fixture
def free_port(socket_enabled: None) -> int:
    """Return a TCP port that is free on 127.0.0.1 (sockets are enabled for the test)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
