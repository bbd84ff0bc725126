"""An aiohttp fake of both Growatt cloud APIs (ShinePhone ``*.do`` and OpenAPI ``v1/``).

Serves the answers of ``tests/fixtures/growatt_cloud`` (taken from the reference clients'
documented examples and test data, see its README) on loopback, checks requests the way the
documentation describes the server (``PlantDetailAPI.do`` ``type=2&date=YYYY-MM`` gives a
month's days, ``type=1`` a day's power curve; ``plant/energy`` at most 7 days, 10 calls a
day, once every 5 minutes, else 10012; ``device/list`` paged) and records every request.
Tests change its state (``login_answer``, ``fail_status``, ``v1_error``, ``blocked``,
``expire_sessions()``) only to inject faults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.util import dt as dt_util
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
    agents: set[str] = field(default_factory=set)
    blocked: bool = False
    """Answer every request with a CDN's HTTP 403 HTML page."""
    energy_calls: list[datetime] = field(default_factory=list)
    energy_refused: int = 0
    """plant/energy calls the documented limits refused (10012)."""
    request_times: list[datetime] = field(default_factory=list)
    extra_devices: int = 0
    """V1 device/list: this many more MIN devices after the fixture's (paging)."""
    mix_fixture: str = "openapi_mix_last_data"
    logins: int = 0
    sessions: set[str] = field(default_factory=set)
    login_answer: str | None = None
    """Fixture name answered to logins instead of checking the password."""
    fail_status: int | None = None
    """HTTP status answered to every request (e.g. 500)."""
    v1_error: int | None = None
    """OpenAPI error code answered to every V1 request (e.g. 10012)."""
    history: dict[date, float] = field(default_factory=dict)
    plant_ids: tuple[str, ...] | None = None
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
        if self.plant_ids is not None:
            body["back"]["data"] = [
                plant for plant in body["back"]["data"] if plant["plantId"] in self.plant_ids
            ]
        return self._classic(request, body)

    async def plant_detail(self, request: web.Request) -> web.StreamResponse:
        """``type=2&date=YYYY-MM``: energy per day of the month; ``type=1``: a day's curve."""
        body = self.answer("shinephone_plant_detail_envelope")
        text = request.query.get("date", "")
        if request.query.get("type") == "2" and len(text) == 7:
            month = date.fromisoformat(f"{text}-01")
            body["back"]["data"] = {
                str(day.day): f"{energy:.1f}"
                for day, energy in self.history.items()
                if day.replace(day=1) == month
            }
        else:
            body["back"]["data"] = {f"{h:02d}:00": "0.5" for h in range(6, 20)}
        return self._classic(request, body)

    async def two_plant(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("plantId") not in ("828578", "1234567"):
            return self._classic(request, {"deviceList": []})
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
        if self.plant_ids is not None:
            body["data"]["plants"] = [
                p for p in body["data"]["plants"] if str(p["plant_id"]) in self.plant_ids
            ]
        return self._v1(request, body)

    async def v1_plant_data(self, request: web.Request) -> web.Response:
        return self._v1(request, "openapi_plant_data")

    async def v1_device_list(self, request: web.Request) -> web.Response:
        body = self.answer("openapi_device_list")
        devices = body["data"]["devices"] + [
            {"device_sn": f"MIN{n:07d}", "type": 7} for n in range(self.extra_devices)
        ]
        page = int(request.query.get("page") or 1)
        perpage = int(request.query.get("perpage") or 20)
        body["data"]["count"] = len(devices)
        body["data"]["devices"] = devices[(page - 1) * perpage : page * perpage]
        return self._v1(request, body)

    async def v1_tlx(self, request: web.Request) -> web.Response:
        return self._v1(request, "openapi_tlx_last_data")

    async def v1_mix(self, request: web.Request) -> web.Response:
        return self._v1(request, self.mix_fixture)

    def _energy_refused(self) -> bool:
        """Growatt's documented limits of plant/energy: 10 a day, once every 5 minutes."""
        now = dt_util.utcnow()
        self.energy_calls = [t for t in self.energy_calls if now - t < timedelta(hours=24)]
        if len(self.energy_calls) >= 10 or (
            self.energy_calls and now - self.energy_calls[-1] < timedelta(minutes=5)
        ):
            self.energy_refused += 1
            return True
        self.energy_calls.append(now)
        return False

    async def v1_energy(self, request: web.Request) -> web.Response:
        if self._energy_refused():
            return web.json_response(
                {"error_code": 10012, "error_msg": "error_frequently_access", "data": ""}
            )
        start = date.fromisoformat(request.query["start_date"])
        end = date.fromisoformat(request.query["end_date"])
        if request.query.get("time_unit") != "day" or (end - start).days > 7:
            return web.json_response(
                {"error_code": 10004, "error_msg": "error_time_format", "data": ""}
            )
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
        self.agents.add(request.headers.get("User-Agent", ""))
        self.request_times.append(dt_util.utcnow())
        if self.blocked:
            return web.Response(
                status=403, text="<html>Access denied</html>", content_type="text/html"
            )
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
