"""An aiohttp fake of both Growatt cloud APIs (ShinePhone ``*.do`` and OpenAPI ``v1/``).

Serves the hand-written answers of ``tests/fixtures/growatt_cloud`` on loopback and records
every request; tests change its state (``login_answer``, ``fail_status``, ``v1_error``,
``expire_sessions()``, ``values``) to simulate Growatt's behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import copy
from dataclasses import dataclass, field
from datetime import date, timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.pv_monitor.growatt_cloud.api.client import REGION_URLS, hash_password

FIXTURES = Path(__file__).parents[1] / "fixtures" / "growatt_cloud"
USERNAME = "owner"
PASSWORD = "secret"
TOKEN = "tok-0123456789abcdef"


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass
class FakeGrowatt:
    """State of the fake cloud."""

    answers: dict[str, Any] = field(
        default_factory=lambda: {
            name.stem: json.loads(name.read_text()) for name in FIXTURES.glob("*.json")
        }
    )
    requests: list[str] = field(default_factory=list)
    logins: int = 0
    sessions: set[str] = field(default_factory=set)
    login_answer: str | None = None
    """Fixture name answered to logins instead of checking the password."""
    fail_status: int | None = None
    """HTTP status answered to every request (e.g. 500)."""
    v1_error: int | None = None
    """OpenAPI error code answered to every V1 request (e.g. 10012)."""
    history: dict[date, float] = field(default_factory=dict)
    plant_ids: tuple[str, ...] = ("1234567", "7654321")
    html_after_login: bool = False
    bad_history_row: bool = False
    url: str = ""

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def answer(self, name: str) -> Any:
        return copy.deepcopy(self.answers[name])

    def set_history(self, end: date, days: int, energy: float = 10.0) -> None:
        self.history = {end - timedelta(days=n): energy + n % 5 for n in range(days)}

    # -- ShinePhone -----------------------------------------------------------------------
    def _session_ok(self, request: web.Request) -> bool:
        return request.cookies.get("JSESSIONID") in self.sessions

    async def login(self, request: web.Request) -> web.Response:
        self.logins += 1
        form = await request.post()
        if self.login_answer:
            return web.json_response(self.answer(self.login_answer))
        if form.get("userName") != USERNAME or form.get("password") != hash_password(PASSWORD):
            return web.json_response(self.answer("shinephone_login_bad_password"))
        session = f"S{self.logins:04d}"
        self.sessions.add(session)
        response = web.json_response(self.answer("shinephone_login_ok"))
        response.set_cookie("JSESSIONID", session)
        response.set_cookie("SERVERID", "srv1")
        return response

    def _classic(self, request: web.Request, body: Any) -> web.StreamResponse:
        if not self._session_ok(request):
            if self.html_after_login:
                return web.Response(text="<html>login</html>", content_type="text/html")
            raise web.HTTPFound("/login")
        return web.json_response(body)

    async def plant_list(self, request: web.Request) -> web.StreamResponse:
        body = self.answer("shinephone_plant_list")
        body["back"]["data"] = [
            plant for plant in body["back"]["data"] if plant["plantId"] in self.plant_ids
        ]
        return self._classic(request, body)

    async def plant_detail(self, request: web.Request) -> web.StreamResponse:
        month = date.fromisoformat(request.query["date"]).replace(day=1)
        data = {
            str(day.day): f"{energy:.1f}"
            for day, energy in self.history.items()
            if day.replace(day=1) == month
        }
        return self._classic(request, {"back": {"data": data, "success": True}})

    async def two_plant(self, request: web.Request) -> web.StreamResponse:
        return self._classic(request, self.answer("shinephone_device_list"))

    async def inverter(self, request: web.Request) -> web.StreamResponse:
        return self._classic(request, self.answer("shinephone_inverter_detail"))

    async def tlx(self, request: web.Request) -> web.StreamResponse:
        return self._classic(request, self.answer("shinephone_tlx_detail"))

    async def mix(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("op") == "getSystemStatus_KW":
            return self._classic(request, self.answer("shinephone_mix_status"))
        return self._classic(request, self.answer("shinephone_mix_info"))

    async def storage(self, request: web.Request) -> web.StreamResponse:
        return self._classic(request, self.answer("shinephone_storage_params"))

    # -- OpenAPI V1 -----------------------------------------------------------------------
    def _v1(self, request: web.Request, name: str | dict[str, Any]) -> web.Response:
        if request.headers.get("token") != TOKEN:
            return web.json_response(
                {"error_code": 10011, "error_msg": "error_permission_denied", "data": None}
            )
        if self.v1_error is not None:
            return web.json_response(
                {"error_code": self.v1_error, "error_msg": "error_frequently_access", "data": ""}
            )
        return web.json_response(self.answer(name) if isinstance(name, str) else name)

    async def v1_plant_list(self, request: web.Request) -> web.Response:
        body = self.answer("openapi_plant_list")
        body["data"]["plants"] = [
            p for p in body["data"]["plants"] if str(p["plant_id"]) in self.plant_ids
        ]
        return self._v1(request, body)

    async def v1_plant_data(self, request: web.Request) -> web.Response:
        return self._v1(request, "openapi_plant_data")

    async def v1_device_list(self, request: web.Request) -> web.Response:
        return self._v1(request, "openapi_device_list")

    async def v1_tlx(self, request: web.Request) -> web.Response:
        return self._v1(request, "openapi_tlx_last_data")

    async def v1_mix(self, request: web.Request) -> web.Response:
        return self._v1(request, "openapi_mix_last_data")

    async def v1_energy(self, request: web.Request) -> web.Response:
        start = date.fromisoformat(request.query["start_date"])
        end = date.fromisoformat(request.query["end_date"])
        energys = [
            {"date": day.isoformat(), "energy": f"{energy:.1f}"}
            for day, energy in sorted(self.history.items())
            if start <= day <= end
        ]
        if self.bad_history_row:
            energys.append({"date": "", "energy": "1.0"})
        return self._v1(
            request,
            {"error_code": 0, "error_msg": "", "data": {"count": len(energys), "energys": energys}},
        )

    # -- app ------------------------------------------------------------------------------
    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(request.path.lstrip("/"))
        if self.fail_status is not None:
            return web.Response(status=self.fail_status, text="Bad Gateway")
        response: web.StreamResponse = await handler(request)
        return response

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.middleware])
        app.router.add_post("/newTwoLoginAPI.do", self.login)
        app.router.add_get("/PlantListAPI.do", self.plant_list)
        app.router.add_get("/PlantDetailAPI.do", self.plant_detail)
        app.router.add_get("/newTwoPlantAPI.do", self.two_plant)
        app.router.add_get("/newInverterAPI.do", self.inverter)
        app.router.add_get("/newTlxApi.do", self.tlx)
        app.router.add_route("*", "/newMixApi.do", self.mix)
        app.router.add_get("/newStorageAPI.do", self.storage)
        app.router.add_get("/v1/plant/list", self.v1_plant_list)
        app.router.add_get("/v1/plant/data", self.v1_plant_data)
        app.router.add_get("/v1/plant/energy", self.v1_energy)
        app.router.add_get("/v1/device/list", self.v1_device_list)
        app.router.add_post("/v1/device/tlx/tlx_last_data", self.v1_tlx)
        app.router.add_post("/v1/device/mix/mix_last_data", self.v1_mix)
        return app


@pytest.fixture
async def fake_cloud(socket_enabled: None) -> AsyncIterator[FakeGrowatt]:
    """The fake cloud on loopback, with every region's URL pointing at it."""
    fake = FakeGrowatt()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("/"))
    try:
        with patch.dict(REGION_URLS, dict.fromkeys(REGION_URLS, fake.url)):
            yield fake
    finally:
        await server.close()
