"""Asyncio clients of the two Growatt cloud APIs, on an injected :class:`aiohttp.ClientSession`.

* :class:`GrowattShinePhoneClient`: the classic API of the ShinePhone app (``*.do``
  endpoints). Logs in once (``newTwoLoginAPI.do``, username and Growatt's MD5 variant of the
  password), keeps the session cookie it got and sends it with every request itself (so the
  shared session's cookie jar, which refuses cookies of IP hosts and is shared with other
  integrations, does not matter), and logs in again only when a call shows that the session
  has expired (a redirect, HTTP 401/403 or an HTML login page instead of JSON).
* :class:`GrowattOpenApiClient`: OpenAPI V1 (``<server>/v1/...``) with the API token in the
  ``token`` header; answers are ``{"error_code": int, "error_msg": str, "data": ...}``
  (documented at https://www.showdoc.com.cn/262556420217021/0).

Both count every HTTP request through ``on_request(endpoint)`` (the request budget), send
the install's own User-Agent (:func:`user_agent`) and raise only :mod:`.errors` exceptions.
Request and answer shapes were learned from the public ``growattServer`` library 1.9.0
(``base_api.py``, ``open_api_v1.py``), Home Assistant core's ``growatt_server`` integration
and tests, and the OpenAPI V1 documentation as quoted in ``GrowattPublicApiPy``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
import hashlib
from http.cookies import SimpleCookie
import json
import logging
import math
from typing import Any, Final, Protocol, TypedDict, Unpack

import aiohttp

from .errors import (
    GrowattAccountLockedError,
    GrowattAuthError,
    GrowattBlockedError,
    GrowattRateLimitedError,
    GrowattSessionExpiredError,
    GrowattUnavailableError,
)
from .models import (
    INVERTER_FIELDS,
    MIX_INFO_FIELDS,
    MIX_STATUS_FIELDS,
    MIX_V1_FIELDS,
    STORAGE_FIELDS,
    TLX_FIELDS,
    V1_DEVICE_TYPES,
    AuthType,
    Device,
    DeviceData,
    DeviceType,
    FieldMap,
    LoginResult,
    Plant,
    map_fields,
    parse_day,
    parse_energy,
    parse_energy_step,
    parse_number,
    parse_power,
)

_LOGGER = logging.getLogger(__name__)

REGION_URLS: Final[dict[str, str]] = {
    "other_regions": "https://openapi.growatt.com/",
    "north_america": "https://openapi-us.growatt.com/",
    "australia_new_zealand": "https://openapi-au.growatt.com/",
    "china": "https://openapi-cn.growatt.com/",
}
"""Growatt server of each region, as the ShinePhone app's server list and Growatt's OpenAPI
documentation give them (the same hosts serve both APIs; V1 lives under ``v1/``)."""
DEFAULT_REGION: Final = "other_regions"

LOGIN_INVALID_AUTH: Final = "502"
"""ShinePhone login ``msg``: wrong username or password."""
LOGIN_ACCOUNT_LOCKED: Final = "507"
"""ShinePhone login ``msg``: account locked (``lockDuration`` hours, usually 24)."""
DEFAULT_LOCK: Final = timedelta(hours=24)

V1_OK: Final = 0
V1_NO_PRIVILEGE: Final = 10011
"""OpenAPI V1 error: no privilege (token not valid for this call)."""
V1_FREQUENT_ACCESS: Final = 10012
"""OpenAPI V1 error: access frequency limited (one call per endpoint every 5 minutes)."""
V1_HISTORY_DAYS: Final = 7
"""OpenAPI V1 ``plant/energy`` with ``time_unit=day`` spans at most 7 days per call
(growattServer ``plant_energy_history``; showdoc 1494061730868556)."""
V1_HISTORY_CALLS_PER_DAY: Final = 10
"""OpenAPI V1 ``plant/energy``: "only allowed to call 10 times a day", once every 5 minutes
(showdoc 1494061730868556, quoted in GrowattPublicApiPy ``plant.py``)."""
V1_DEVICES_PER_PAGE: Final = 20
"""OpenAPI V1 ``device/list`` page size (the documented default; max 100)."""
V1_MAX_PAGES: Final = 50
"""Pages of ``device/list`` read at most (1,000 devices), whatever ``count`` claims."""
SHINEPHONE_MONTH: Final = "2"
"""ShinePhone ``PlantDetailAPI.do`` ``type`` of a month's per-day energy, with
``date=YYYY-MM`` (growattServer ``Timespan.month`` = 2; ``type=1`` is a day's power curve)."""

DEFAULT_USER_AGENT: Final = "Dalvik/2.1.0 (Linux; U; Android 12) pv_monitor"
DEFAULT_TIMEOUT: Final = 30.0

type RequestHook = Callable[[str], None]
"""Called with the endpoint (path) before every HTTP request."""


class RequestBody(TypedDict, total=False):
    """What one request sends besides its method and path."""

    params: dict[str, str] | None
    """Query parameters."""
    data: dict[str, str] | None
    """Form body (``application/x-www-form-urlencoded``)."""


class HttpOptions(TypedDict, total=False):
    """Keyword options of both clients (passed on to the HTTP plumbing)."""

    on_request: RequestHook | None
    """Called with the endpoint before every request (the budget guard's count)."""
    timeout: float
    """Seconds a request may take in total (:data:`DEFAULT_TIMEOUT`)."""
    agent: str
    """User-Agent header (:data:`DEFAULT_USER_AGENT`, or :func:`user_agent` of the install)."""


def user_agent(install_id: str) -> str:
    """The User-Agent of one install: the app's agent plus a number derived from ``install_id``.

    Stable for the install, different between installs, so that Growatt blocking one agent
    string does not stop every install at once (growattServer derives a per-user agent with a
    random 5-digit suffix, ``add_random_user_id``; Home Assistant core passes the username).
    """
    number = int(hashlib.sha256(install_id.encode("utf-8")).hexdigest()[:8], 16) % 100_000
    return f"{DEFAULT_USER_AGENT} - {number:05d}"


def hash_password(password: str) -> str:
    """Growatt's password hash: MD5 hex digest with every ``0`` at an even index made ``c``."""
    digest = list(hashlib.md5(password.encode("utf-8")).hexdigest())
    for index in range(0, len(digest), 2):
        if digest[index] == "0":
            digest[index] = "c"
    return "".join(digest)


class GrowattCloudClient(Protocol):
    """What the coordinator needs from either API."""

    auth_type: AuthType

    async def plants(self) -> list[Plant]:
        """Every plant of the account (with totals where the API gives them)."""

    async def plant(self, plant_id: str) -> Plant:
        """One plant with its current power and energy totals."""

    async def devices(self, plant_id: str) -> list[Device]:
        """The devices of a plant."""

    async def device_data(self, plant_id: str, device: Device) -> DeviceData | None:
        """Latest values of ``device``; None when this API cannot read its type."""

    async def plant_totals(self, plant_ids: list[str]) -> dict[str, Plant]:
        """Current power (W) and energy totals (kWh) of the given plants, by plant id."""

    async def daily_energy(self, plant_id: str, start: date, end: date) -> dict[date, float]:
        """Energy (kWh) of each day from ``start`` to ``end`` that the cloud knows."""


class _HttpClient:
    """HTTP plumbing shared by both clients."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        on_request: RequestHook | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self._session = session
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self._on_request = on_request
        self.agent = agent
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.requests = 0
        """HTTP requests sent by this client."""

    async def _http(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        **request: Unpack[RequestBody],
    ) -> tuple[int, str, SimpleCookie]:
        """Send one request; return ``(status, body, cookies set)``.

        Raises:
            GrowattUnavailableError: network error, timeout or HTTP 5xx.
            GrowattRateLimitedError: HTTP 429.
            GrowattBlockedError: HTTP 403 whose body is not JSON (a CDN block).
        """
        self.requests += 1
        if self._on_request is not None:
            self._on_request(path)
        try:
            async with self._session.request(
                method,
                self.base_url + path,
                params=request.get("params"),
                data=request.get("data"),
                headers={"User-Agent": self.agent, **(headers or {})},
                cookies=cookies,
                allow_redirects=False,
                timeout=self._timeout,
            ) as response:
                body = await response.text()
                status = response.status
                set_cookies = response.cookies
        except (aiohttp.ClientError, TimeoutError) as err:
            raise GrowattUnavailableError(f"{path}: {err or type(err).__name__}") from err
        if status == 429:
            raise GrowattRateLimitedError(f"{path}: HTTP 429")
        if status == 403 and not isinstance(_loads(body), dict):
            raise GrowattBlockedError(f"{path}: HTTP 403 without an API answer (blocked)")
        if status >= 500:
            raise GrowattUnavailableError(f"{path}: HTTP {status}")
        return status, body, set_cookies


def _loads(body: str) -> Any:
    """Parse a JSON body; None when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GrowattUnavailableError(f"{what}: unexpected answer")
    return value


def _list(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise GrowattUnavailableError(f"{what}: unexpected answer")
    return [item for item in value if isinstance(item, dict)]


class _PlantIdentity(TypedDict):
    plant_id: str
    name: str


def _listed_plants(
    items: Any, id_key: str, name_key: str
) -> Iterator[tuple[_PlantIdentity, dict[str, Any]]]:
    """The items of a plant-list answer that name a plant id, with the plant's id and name.

    The name is the id where the item gives none (both APIs' lists are read alike).

    Raises:
        GrowattUnavailableError: ``items`` is not a list.
    """
    for item in _list(items, "plant list"):
        if id_key in item:
            plant_id = str(item[id_key])
            yield {"plant_id": plant_id, "name": str(item.get(name_key) or plant_id)}, item


@dataclass(frozen=True, slots=True)
class ShinePhoneRead:
    """One ShinePhone request for a device's values and where they stand in the answer."""

    what: str
    """Name of the answer in error messages."""
    path: str
    op: str
    """The ``op`` query parameter."""
    id_param: str
    """Parameter carrying the device serial (with ``plantId`` when ``plant``)."""
    container: str
    """Key of the answer holding the values."""
    fields: FieldMap
    method: str = "GET"
    """``GET``: ids in the query; ``POST``: ids in the form body, ``op`` in the query."""
    plant: bool = False
    inline: bool = False
    """The values may stand at the answer's top level when ``container`` is missing."""


SHINEPHONE_READS: Final[dict[DeviceType, tuple[ShinePhoneRead, ...]]] = {
    DeviceType.INVERTER: (
        ShinePhoneRead(
            "inverter detail",
            "newInverterAPI.do",
            "getInverterDetailData",
            "inverterId",
            "data",
            INVERTER_FIELDS,
            inline=True,
        ),
    ),
    DeviceType.TLX: (
        ShinePhoneRead(
            "tlx detail", "newTlxApi.do", "getTlxDetailData", "id", "data", TLX_FIELDS, inline=True
        ),
    ),
    DeviceType.MIX: (
        ShinePhoneRead(
            "mix info", "newMixApi.do", "getMixInfo", "mixId", "obj", MIX_INFO_FIELDS, plant=True
        ),
        ShinePhoneRead(
            "mix status",
            "newMixApi.do",
            "getSystemStatus_KW",
            "mixId",
            "obj",
            MIX_STATUS_FIELDS,
            method="POST",
            plant=True,
        ),
    ),
    DeviceType.STORAGE: (
        ShinePhoneRead(
            "storage detail",
            "newStorageAPI.do",
            "getStorageParams_sacolar",
            "storageId",
            "storageDetailBean",
            STORAGE_FIELDS,
        ),
    ),
}
"""The requests that read each device type's values over ShinePhone (growattServer's
``inverter_detail``, ``tlx_detail``, ``mix_info`` + ``mix_system_status``,
``storage_params``); a SPH hybrid needs two."""


class GrowattShinePhoneClient(_HttpClient):
    """Classic ShinePhone API: one login per session, cookie reused until it expires."""

    auth_type = AuthType.PASSWORD

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        username: str,
        password_hash: str,
        **options: Unpack[HttpOptions],
    ) -> None:
        """``password_hash`` is :func:`hash_password` of the password (never sent plain)."""
        super().__init__(session, base_url, **options)
        self._username = username
        self._password_hash = password_hash
        self._cookies: dict[str, str] | None = None
        self._login_lock = asyncio.Lock()
        self.user_id: str | None = None
        self.logins = 0
        """Login requests sent by this client."""

    def session_state(self) -> dict[str, Any] | None:
        """The login session (cookies and user id) to persist, or None before a login."""
        if self._cookies is None or self.user_id is None:
            return None
        return {"cookies": dict(self._cookies), "user_id": self.user_id}

    def restore_session(self, state: Any) -> None:
        """Reuse a session of :meth:`session_state` (from the flow or before a restart).

        A session the cloud no longer accepts costs one login at the first call.
        """
        if isinstance(state, dict) and isinstance(state.get("cookies"), dict):
            self._cookies = {str(k): str(v) for k, v in state["cookies"].items()}
            self.user_id = str(state.get("user_id")) if state.get("user_id") else None

    async def login(self) -> LoginResult:
        """Log in and keep the session cookie.

        Raises:
            GrowattAuthError: wrong username or password (``msg`` "502").
            GrowattAccountLockedError: the account is locked (``msg`` "507").
            GrowattUnavailableError: any other failure.
        """
        self.logins += 1
        self._cookies = None
        _status, body, set_cookies = await self._http(
            "POST",
            "newTwoLoginAPI.do",
            data={"userName": self._username, "password": self._password_hash},
        )
        back = _dict(_dict(_loads(body), "login").get("back"), "login")
        if not back.get("success"):
            msg = str(back.get("msg", ""))
            error = str(back.get("error") or msg or "login refused")
            if msg == LOGIN_INVALID_AUTH:
                raise GrowattAuthError(error)
            if msg == LOGIN_ACCOUNT_LOCKED:
                hours = parse_number(back.get("lockDuration"))
                duration = timedelta(hours=hours) if hours else DEFAULT_LOCK
                raise GrowattAccountLockedError(error, duration)
            raise GrowattUnavailableError(f"login refused: {error}")
        user = back.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        if user_id is None:
            raise GrowattUnavailableError("login: no user id in the answer")
        self._cookies = {name: morsel.value for name, morsel in set_cookies.items()}
        self.user_id = str(user_id)
        return LoginResult(user_id=self.user_id)

    async def _once(self, method: str, path: str, body: RequestBody) -> Any:
        status, text, _cookies = await self._http(method, path, cookies=self._cookies, **body)
        if status in (301, 302, 303, 307, 401, 403):
            # 403 here carried JSON (a CDN block without it raised GrowattBlockedError).
            raise GrowattSessionExpiredError(f"{path}: HTTP {status}")
        if (answer := _loads(text)) is None:
            raise GrowattSessionExpiredError(f"{path}: not JSON")
        return answer

    async def _call(self, method: str, path: str, **body: Unpack[RequestBody]) -> Any:
        """JSON answer of one call.

        Logs in first when there is no session yet and once more when the session turns
        out to have expired; concurrent calls share one login.
        """
        await self._login_unless(None)
        session = self._cookies
        try:
            return await self._once(method, path, body)
        except GrowattSessionExpiredError:
            _LOGGER.debug("Growatt session expired at %s; logging in again", path)
        await self._login_unless(session, expired=True)
        try:
            return await self._once(method, path, body)
        except GrowattSessionExpiredError as err:
            raise GrowattUnavailableError(f"{err} right after a fresh login") from err

    async def _login_unless(self, session: dict[str, str] | None, *, expired: bool = False) -> None:
        """Log in unless there is a session (one that is not ``session`` when ``expired``).

        One login at a time: calls that waited for it reuse the new session.
        """
        async with self._login_lock:
            missing = self._cookies is None or self.user_id is None
            if missing or (expired and self._cookies is session):
                await self.login()

    async def plants(self) -> list[Plant]:
        """Every plant of the account with its totals.

        ``PlantListAPI.do?userId=``: ``{"back": {"data": [{"plantId", "plantName",
        "currentPower": "0 W", "todayEnergy": "0.4 kWh", "totalEnergy": "2.56 MWh"}],
        "totalData": {...}, "success": true}}`` (Sjord/growatt_api_client issue 28). Its
        ``currentPower`` has said "0 W" since 2022 (PyPi_GrowattServer issues 20, 24, 26), so
        the coordinator sums the inverters instead; ``totalEnergy`` comes in MWh once large
        (resolution in :attr:`Plant.energy_total_step`).
        """
        await self._login_unless(None)
        answer = await self._call("GET", "PlantListAPI.do", params={"userId": str(self.user_id)})
        back = _dict(_dict(answer, "plant list").get("back"), "plant list")
        return [
            Plant(
                **identity,
                current_power=parse_power(item.get("currentPower")),
                energy_today=parse_energy(item.get("todayEnergy")),
                energy_total=parse_energy(item.get("totalEnergy")),
                energy_total_step=parse_energy_step(item.get("totalEnergy")),
                peak_power=parse_number(item.get("plantPower")),
            )
            for identity, item in _listed_plants(back.get("data", []), "plantId", "plantName")
        ]

    async def plant(self, plant_id: str) -> Plant:
        """The plant from the plant list (one request gives every plant's totals)."""
        return (await self.plant_totals([plant_id]))[plant_id]

    async def plant_totals(self, plant_ids: list[str]) -> dict[str, Plant]:
        """Totals of the given plants from one ``PlantListAPI.do`` request.

        Raises:
            GrowattUnavailableError: a plant is not in the account's plant list.
        """
        plants = {plant.plant_id: plant for plant in await self.plants()}
        if missing := [plant_id for plant_id in plant_ids if plant_id not in plants]:
            raise GrowattUnavailableError(f"plants {missing} not in the account's plant list")
        return {plant_id: plants[plant_id] for plant_id in plant_ids}

    async def devices(self, plant_id: str) -> list[Device]:
        """The devices of a plant.

        ``newTwoPlantAPI.do?op=getAllDeviceList``: ``{"deviceList": [{"deviceType": "tlx",
        "deviceSn", "deviceAilas", "datalogSn", "deviceModel"}]}``.
        """
        answer = await self._call(
            "GET",
            "newTwoPlantAPI.do",
            params={"op": "getAllDeviceList", "plantId": plant_id, "language": "1"},
        )
        devices: list[Device] = []
        for item in _list(_dict(answer, "device list").get("deviceList", []), "device list"):
            if not item.get("deviceSn"):
                continue
            raw_type = str(item.get("deviceType", "")).lower()
            device_type = (
                DeviceType(raw_type) if raw_type in DeviceType.__members__.values() else None
            )
            devices.append(
                Device(
                    serial=str(item["deviceSn"]),
                    device_type=device_type or DeviceType.OTHER,
                    alias=item.get("deviceAilas") or item.get("deviceAlias") or None,
                    model=item.get("deviceModel") or raw_type or None,
                    datalogger_serial=item.get("datalogSn") or None,
                )
            )
        return devices

    async def device_data(self, plant_id: str, device: Device) -> DeviceData | None:
        """Values of one device by its type (:data:`SHINEPHONE_READS`); None for others."""
        reads = SHINEPHONE_READS.get(device.device_type)
        if reads is None:
            return None
        values: dict[str, float] = {}
        for read in reads:
            ids = {read.id_param: device.serial, **({"plantId": plant_id} if read.plant else {})}
            if read.method == "POST":
                params, data = {"op": read.op}, ids
            else:
                params, data = {"op": read.op, **ids}, None
            answer = _dict(
                await self._call(read.method, read.path, params=params, data=data), read.what
            )
            raw = answer.get(read.container, answer if read.inline else None)
            values.update(map_fields(_dict(raw, read.what), read.fields))
        return DeviceData(serial=device.serial, device_type=device.device_type, values=values)

    async def daily_energy(self, plant_id: str, start: date, end: date) -> dict[date, float]:
        """Energy (kWh) of each day from ``start`` to ``end``, one request per month.

        ``PlantDetailAPI.do?plantId=&type=2&date=YYYY-MM`` (growattServer ``plant_detail``
        with ``Timespan.month``): ``{"back": {"plantData": {...}, "data": {"4": "12.3"},
        "success": true}}``, one kWh value per day of the month, keyed by the day (or its
        date). ``type=1`` would be a day's power curve.
        """
        days: dict[date, float] = {}
        month = end.replace(day=1)
        while month >= start.replace(day=1):
            answer = await self._call(
                "GET",
                "PlantDetailAPI.do",
                params={
                    "plantId": plant_id,
                    "type": SHINEPHONE_MONTH,
                    "date": month.strftime("%Y-%m"),
                },
            )
            back = _dict(_dict(answer, "plant detail").get("back"), "plant detail")
            for key, value in _dict(back.get("data", {}), "plant detail").items():
                day = parse_day(str(key), month)
                energy = parse_energy(value)
                if day is not None and energy is not None and start <= day <= end:
                    days[day] = energy
            month = (month - timedelta(days=1)).replace(day=1)
        return days


V1_LAST_DATA: Final[dict[DeviceType, tuple[str, FieldMap]]] = {
    DeviceType.TLX: ("tlx", TLX_FIELDS),
    DeviceType.MIX: ("mix", MIX_V1_FIELDS),
}
"""OpenAPI V1 device types with a ``device/<name>/<name>_last_data`` endpoint, and the fields
of its answer."""


class GrowattOpenApiClient(_HttpClient):
    """OpenAPI V1 with an API token; no login."""

    auth_type = AuthType.TOKEN

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        **options: Unpack[HttpOptions],
    ) -> None:
        """``base_url`` is the region's server; calls go to ``<base_url>v1/<endpoint>``."""
        super().__init__(session, base_url, **options)
        self._token = token

    async def _call(self, method: str, path: str, **body: Unpack[RequestBody]) -> Any:
        """The ``data`` of a V1 answer.

        Raises:
            GrowattAuthError: HTTP 401 or error 10011.
            GrowattRateLimitedError: error 10012.
            GrowattBlockedError: HTTP 403 without the API's JSON body.
            GrowattUnavailableError: any other error code or an answer that is not JSON.
        """
        status, text, _cookies = await self._http(
            method, f"v1/{path}", headers={"token": self._token}, **body
        )
        if status == 401:
            raise GrowattAuthError(f"{path}: HTTP {status}")
        answer = _dict(_loads(text), path)
        code = answer.get("error_code")
        message = str(answer.get("error_msg") or "")
        if code == V1_OK:
            return answer.get("data")
        if code == V1_NO_PRIVILEGE:
            raise GrowattAuthError(f"{path}: error {code} {message}".strip())
        if code == V1_FREQUENT_ACCESS:
            raise GrowattRateLimitedError(f"{path}: error {code} {message}".strip())
        raise GrowattUnavailableError(f"{path}: error {code} {message}".strip())

    async def plants(self) -> list[Plant]:
        """Every plant of the account.

        ``plant/list``: ``{"plants": [{"plant_id", "name", "city", "country",
        "latitude", "longitude", "peak_power", "current_power", "total_energy"}]}``.
        """
        data = _dict(await self._call("GET", "plant/list"), "plant list")
        return [
            Plant(
                **identity,
                energy_total=parse_energy(item.get("total_energy")),
                peak_power=parse_number(item.get("peak_power")),
                location={
                    key: item[key]
                    for key in ("city", "country", "latitude", "longitude")
                    if key in item
                },
            )
            for identity, item in _listed_plants(data.get("plants", []), "plant_id", "name")
        ]

    async def plant(self, plant_id: str) -> Plant:
        """One plant with its current power (W) and energy totals (kWh).

        ``plant/data?plant_id=``: ``{"current_power": 2.5, "today_energy": "0.2",
        "total_energy": "45.1", ...}``; ``current_power`` is **kW** (documented "current power
        (kW)", showdoc 1494061093808613; Home Assistant core converts it to W after reading it
        as W showed "2.5 W instead of 2500 W"), so it is multiplied by 1000 here.
        """
        data = _dict(
            await self._call("GET", "plant/data", params={"plant_id": plant_id}), "plant data"
        )
        power_kw = parse_number(data.get("current_power"))
        return Plant(
            plant_id=plant_id,
            name="",
            current_power=None if power_kw is None else round(power_kw * 1000, 3),
            energy_today=parse_energy(data.get("today_energy")),
            energy_total=parse_energy(data.get("total_energy")),
        )

    async def plant_totals(self, plant_ids: list[str]) -> dict[str, Plant]:
        """Totals of the given plants, one ``plant/data`` request each."""
        return {plant_id: await self.plant(plant_id) for plant_id in plant_ids}

    async def devices(self, plant_id: str) -> list[Device]:
        """The devices of a plant, every page of ``device/list``.

        ``device/list?plant_id=&page=&perpage=``: ``{"count": 3, "devices": [{"device_sn",
        "model", "datalogger_sn", "type", ...}]}`` (growattServer ``device_list``; type 5 SPH,
        7 MIN/TLX, 1 inverter, 2 storage), :data:`V1_DEVICES_PER_PAGE` per page.
        """
        devices: list[Device] = []
        for page in range(1, V1_MAX_PAGES + 1):
            data = _dict(
                await self._call(
                    "GET",
                    "device/list",
                    params={
                        "plant_id": plant_id,
                        "page": str(page),
                        "perpage": str(V1_DEVICES_PER_PAGE),
                    },
                ),
                "device list",
            )
            items = _list(data.get("devices", []), "device list")
            devices.extend(_v1_device(item) for item in items if item.get("device_sn"))
            count = parse_number(data.get("count"))
            total = int(count) if count is not None and math.isfinite(count) else 0
            if not items or page * V1_DEVICES_PER_PAGE >= total:
                break
        return devices

    async def device_data(self, plant_id: str, device: Device) -> DeviceData | None:
        """Latest values of a TL-X or SPH device; None for other types.

        ``device/tlx/tlx_last_data`` or ``device/mix/mix_last_data`` (POST, form field
        ``tlx_sn``/``mix_sn``); None for other types (V1 support limited to these).
        """
        if (kind := V1_LAST_DATA.get(device.device_type)) is None:
            return None
        name, fields = kind
        data = await self._call(
            "POST", f"device/{name}/{name}_last_data", data={f"{name}_sn": device.serial}
        )
        if isinstance(data, list) and data:
            data = data[0]
        return DeviceData(
            serial=device.serial,
            device_type=device.device_type,
            values=map_fields(_dict(data, "last data"), fields),
        )

    async def daily_energy(self, plant_id: str, start: date, end: date) -> dict[date, float]:
        """Energy (kWh) of each day from ``start`` to ``end``.

        ``plant/energy`` with ``time_unit=day``, 7 days per request from ``end`` back:
        ``{"energys": [{"date": "2025-05-04", "energy": "12.3"}]}``.
        """
        days: dict[date, float] = {}
        chunk_end = end
        while chunk_end >= start:
            chunk_start = max(start, chunk_end - timedelta(days=V1_HISTORY_DAYS - 1))
            data = _dict(
                await self._call(
                    "GET",
                    "plant/energy",
                    params={
                        "plant_id": plant_id,
                        "start_date": chunk_start.isoformat(),
                        "end_date": chunk_end.isoformat(),
                        "time_unit": "day",
                        "page": "1",
                        "perpage": "100",
                    },
                ),
                "energy history",
            )
            for item in _list(data.get("energys", []), "energy history"):
                day = parse_day(str(item.get("date", "")), chunk_start)
                energy = parse_energy(item.get("energy"))
                if day is not None and energy is not None:
                    days[day] = energy
            chunk_end = chunk_start - timedelta(days=1)
        return days


def _v1_device(item: dict[str, Any]) -> Device:
    """A device of a V1 ``device/list`` item."""
    code = parse_number(item.get("type"))
    device_type = (
        V1_DEVICE_TYPES.get(int(code)) if code is not None and math.isfinite(code) else None
    )
    return Device(
        serial=str(item["device_sn"]),
        device_type=device_type or DeviceType.OTHER,
        model=item.get("model") or None,
        datalogger_serial=item.get("datalogger_sn") or None,
    )
