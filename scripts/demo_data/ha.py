"""A small client of the development instance's API (``scripts/develop``, the browser test).

It authenticates with the long-lived token that ``demo_data.prepare`` created for the user
dev (``config/.develop_token``): only our own instance accepts it, so an answer proves that
the Home Assistant on the port is ours, not another one that happens to listen there.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from pathlib import Path
import sys
import time
from typing import Any

import aiohttp


class HomeAssistantApi:
    """REST and websocket calls to ``http://127.0.0.1:<port>`` with the develop token."""

    def __init__(self, config_dir: Path, port: int) -> None:
        """Read the token of ``config_dir``; nothing is connected yet."""
        self.config_dir = config_dir.resolve()
        self.base = f"http://127.0.0.1:{port}"
        self.token = (config_dir / ".develop_token").read_text(encoding="utf-8").strip()
        self.session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientTimeout(total=30),
        )
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ids = itertools.count(1)

    async def close(self) -> None:
        """Close the websocket and the session."""
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()

    async def get(self, path: str) -> Any:
        """GET ``/api/<path>``; the JSON answer, or None when not 200."""
        async with self.session.get(f"{self.base}/api/{path}") as response:
            if response.status != 200:
                return None
            return await response.json()

    async def is_ours(self) -> bool:
        """Whether the API answers our token and runs from our config directory."""
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            config = await self.get("config")
            return bool(config) and _same_dir(config["config_dir"], self.config_dir)
        return False

    async def call(self, message: dict[str, Any]) -> Any:
        """One websocket command; its result (raises RuntimeError on an error answer)."""
        if self.ws is None:
            self.ws = await self.session.ws_connect(f"{self.base}/api/websocket")
            await self.ws.receive_json()  # auth_required
            await self.ws.send_json({"type": "auth", "access_token": self.token})
            answer = await self.ws.receive_json()
            if answer.get("type") != "auth_ok":
                raise RuntimeError(f"websocket authentication failed: {answer}")
        msg_id = next(self.ids)
        await self.ws.send_json({"id": msg_id, **message})
        while True:
            answer = await self.ws.receive_json()
            if answer.get("id") == msg_id:
                if not answer.get("success"):
                    raise RuntimeError(f"{message['type']}: {answer.get('error')}")
                return answer.get("result")


def _same_dir(reported: str, ours: Path) -> bool:
    """Whether the config directory Home Assistant reports is ``ours`` (symlinks resolved)."""
    return Path(reported).resolve() == ours


async def wait_ready(config_dir: Path, port: int, seconds: float) -> str | None:
    """Wait until our instance answers and every pv_monitor entry has finished setting up.

    Returns None when ready, else what was still missing at the deadline.
    """
    api = HomeAssistantApi(config_dir, port)
    deadline = time.monotonic() + seconds
    missing = f"no answer from our Home Assistant on port {port}"
    try:
        while time.monotonic() < deadline:
            if await api.is_ours():
                missing = "the pv_monitor entries are still setting up"
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                    entries = await api.get("config/config_entries/entry?domain=pv_monitor")
                    states = {entry["state"] for entry in entries or []}
                    if entries and not states & {"not_loaded", "setup_in_progress"}:
                        return None
            await asyncio.sleep(1)
    finally:
        await api.close()
    return missing


if __name__ == "__main__":
    # python -m demo_data.ha CONFIG_DIR PORT TIMEOUT: exit 0 when ready, 1 otherwise.
    problem = asyncio.run(wait_ready(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
    if problem:
        print(f"develop: not ready: {problem}", file=sys.stderr)
    sys.exit(1 if problem else 0)
