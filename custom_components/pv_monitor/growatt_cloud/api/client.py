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

Both count every HTTP request through ``on_request(endpoint)`` (the request budget) and
raise only :mod:`.errors` exceptions. Request and answer shapes were learned from the public
``growattServer`` library and Home Assistant core's ``growatt_server`` integration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
import hashlib
from http.cookies import SimpleCookie
import json
import logging
from typing import Any, Final, Protocol

import aiohttp

from .errors import (
    GrowattAccountLockedError,
    GrowattAuthError,
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
    LoginResult,
    Plant,
    map_fields,
    parse_day,
    parse_energy,
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
"""OpenAPI V1 ``plant/energy`` with ``time_unit=day`` spans at most 7 days per call."""

USER_AGENT: Final = "Dalvik/2.1.0 (Linux; U; Android 13) pv_monitor"
DEFAULT_TIMEOUT: Final = 30.0

type RequestHook = Callable[[str], None]
"""Called with the endpoint (path) before every HTTP request."""


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
    ) -> None:
        self._session = session
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self._on_request = on_request
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.requests = 0
        """HTTP requests sent by this client."""

    async def _http(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> tuple[int, str, SimpleCookie]:
        """Send one request; return ``(status, body, cookies set)``.

        Raises:
            GrowattUnavailableError: network error, timeout or HTTP 5xx.
            GrowattRateLimitedError: HTTP 429.
        """
        self.requests += 1
        if self._on_request is not None:
            self._on_request(path)
        try:
            async with self._session.request(
                method,
                self.base_url + path,
                params=params,
                data=data,
                headers={"User-Agent": USER_AGENT, **(headers or {})},
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


class GrowattShinePhoneClient(_HttpClient):
    """Classic ShinePhone API: one login per session, cookie reused until it expires."""

    auth_type = AuthType.PASSWORD

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        username: str,
        password_hash: str,
        *,
        on_request: RequestHook | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """``password_hash`` is :func:`hash_password` of the password (never sent plain)."""
        super().__init__(session, base_url, on_request=on_request, timeout=timeout)
        self._username = username
        self._password_hash = password_hash
        self._cookies: dict[str, str] | None = None
        self.user_id: str | None = None
        self.logins = 0
        """Login requests sent by this client."""

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

    async def _once(
        self, method: str, path: str, params: dict[str, str] | None, data: dict[str, str] | None
    ) -> Any:
        status, body, _cookies = await self._http(
            method, path, params=params, data=data, cookies=self._cookies
        )
        if status in (301, 302, 303, 307, 401, 403):
            raise GrowattSessionExpiredError(f"{path}: HTTP {status}")
        if (answer := _loads(body)) is None:
            raise GrowattSessionExpiredError(f"{path}: not JSON")
        return answer

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> Any:
        """JSON answer of one call.

        JSON answer of one call, logging in first when there is no session yet and
        once more when the session turns out to have expired.
        """
        if self._cookies is None:
            await self.login()
        try:
            return await self._once(method, path, params, data)
        except GrowattSessionExpiredError:
            _LOGGER.debug("Growatt session expired at %s; logging in again", path)
        await self.login()
        try:
            return await self._once(method, path, params, data)
        except GrowattSessionExpiredError as err:
            raise GrowattUnavailableError(f"{err} right after a fresh login") from err

    async def plants(self) -> list[Plant]:
        """Every plant of the account with its totals.

        ``PlantListAPI.do``: ``{"back": {"data": [{"plantId", "plantName",
        "currentPower": "450 W", "todayEnergy": "3.2 kWh", "totalEnergy": "1.2 MWh"}]}}``.
        """
        if self.user_id is None:
            await self.login()
        answer = await self._call("GET", "PlantListAPI.do", params={"userId": str(self.user_id)})
        back = _dict(_dict(answer, "plant list").get("back"), "plant list")
        return [
            Plant(
                plant_id=str(item["plantId"]),
                name=str(item.get("plantName") or item["plantId"]),
                current_power=parse_power(item.get("currentPower")),
                energy_today=parse_energy(item.get("todayEnergy")),
                energy_total=parse_energy(item.get("totalEnergy")),
                peak_power=parse_number(item.get("plantPower")),
            )
            for item in _list(back.get("data", []), "plant list")
            if "plantId" in item
        ]

    async def plant(self, plant_id: str) -> Plant:
        """The plant from the plant list (one request gives every plant's totals)."""
        for plant in await self.plants():
            if plant.plant_id == plant_id:
                return plant
        raise GrowattUnavailableError(f"plant {plant_id} not in the account's plant list")

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
        """Values of one device by its type; None for :attr:`DeviceType.OTHER`."""
        serial = device.serial
        values: dict[str, float]
        match device.device_type:
            case DeviceType.INVERTER:
                answer = _dict(
                    await self._call(
                        "GET",
                        "newInverterAPI.do",
                        params={"op": "getInverterDetailData", "inverterId": serial},
                    ),
                    "inverter detail",
                )
                values = map_fields(_dict(answer.get("data", answer), "inverter"), INVERTER_FIELDS)
            case DeviceType.TLX:
                answer = _dict(
                    await self._call(
                        "GET", "newTlxApi.do", params={"op": "getTlxDetailData", "id": serial}
                    ),
                    "tlx detail",
                )
                values = map_fields(_dict(answer.get("data", answer), "tlx detail"), TLX_FIELDS)
            case DeviceType.MIX:
                info = _dict(
                    await self._call(
                        "GET",
                        "newMixApi.do",
                        params={"op": "getMixInfo", "mixId": serial, "plantId": plant_id},
                    ),
                    "mix info",
                )
                status = _dict(
                    await self._call(
                        "POST",
                        "newMixApi.do",
                        params={"op": "getSystemStatus_KW"},
                        data={"mixId": serial, "plantId": plant_id},
                    ),
                    "mix status",
                )
                values = map_fields(_dict(info.get("obj"), "mix info"), MIX_INFO_FIELDS)
                values.update(map_fields(_dict(status.get("obj"), "mix status"), MIX_STATUS_FIELDS))
            case DeviceType.STORAGE:
                answer = _dict(
                    await self._call(
                        "GET",
                        "newStorageAPI.do",
                        params={"op": "getStorageParams_sacolar", "storageId": serial},
                    ),
                    "storage detail",
                )
                values = map_fields(
                    _dict(answer.get("storageDetailBean"), "storage detail"), STORAGE_FIELDS
                )
            case _:
                return None
        return DeviceData(serial=serial, device_type=device.device_type, values=values)

    async def daily_energy(self, plant_id: str, start: date, end: date) -> dict[date, float]:
        """Energy (kWh) of each day from ``start`` to ``end``.

        ``PlantDetailAPI.do`` (``type=1``), one request per month from ``end`` back to
        ``start``: ``{"back": {"data": {"2025-05-04" or "4": "12.3"}}}`` (kWh per day).
        """
        days: dict[date, float] = {}
        month = end.replace(day=1)
        while month >= start.replace(day=1):
            answer = await self._call(
                "GET",
                "PlantDetailAPI.do",
                params={"plantId": plant_id, "type": "1", "date": month.isoformat()},
            )
            back = _dict(_dict(answer, "plant detail").get("back"), "plant detail")
            for key, value in _dict(back.get("data", {}), "plant detail").items():
                day = parse_day(str(key), month)
                energy = parse_energy(value)
                if day is not None and energy is not None and start <= day <= end:
                    days[day] = energy
            month = (month - timedelta(days=1)).replace(day=1)
        return days


class GrowattOpenApiClient(_HttpClient):
    """OpenAPI V1 with an API token; no login."""

    auth_type = AuthType.TOKEN

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        on_request: RequestHook | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """``base_url`` is the region's server; calls go to ``<base_url>v1/<endpoint>``."""
        super().__init__(session, base_url, on_request=on_request, timeout=timeout)
        self._token = token

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> Any:
        """The ``data`` of a V1 answer.

        Raises:
            GrowattAuthError: HTTP 401/403 or error 10011.
            GrowattRateLimitedError: error 10012.
            GrowattUnavailableError: any other error code or an answer that is not JSON.
        """
        status, body, _cookies = await self._http(
            method, f"v1/{path}", params=params, data=data, headers={"token": self._token}
        )
        if status in (401, 403):
            raise GrowattAuthError(f"{path}: HTTP {status}")
        answer = _dict(_loads(body), path)
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
                plant_id=str(item["plant_id"]),
                name=str(item.get("name") or item["plant_id"]),
                current_power=parse_power(item.get("current_power")),
                energy_total=parse_energy(item.get("total_energy")),
                peak_power=parse_number(item.get("peak_power")),
                location={
                    key: item[key]
                    for key in ("city", "country", "latitude", "longitude")
                    if key in item
                },
            )
            for item in _list(data.get("plants", []), "plant list")
            if "plant_id" in item
        ]

    async def plant(self, plant_id: str) -> Plant:
        """One plant with its current power and energy totals.

        ``plant/data``: ``{"current_power": W, "today_energy": "kWh",
        "total_energy": "kWh"}``; the name is left empty (the entry has it).
        """
        data = _dict(
            await self._call("GET", "plant/data", params={"plant_id": plant_id}), "plant data"
        )
        return Plant(
            plant_id=plant_id,
            name="",
            current_power=parse_power(data.get("current_power")),
            energy_today=parse_energy(data.get("today_energy")),
            energy_total=parse_energy(data.get("total_energy")),
        )

    async def devices(self, plant_id: str) -> list[Device]:
        """The devices of a plant.

        ``device/list``: ``{"devices": [{"device_sn", "type", "model",
        "datalogger_sn"}]}`` (type 5 SPH, 7 MIN/TLX, 1 inverter, 2 storage).
        """
        data = _dict(
            await self._call("GET", "device/list", params={"plant_id": plant_id}),
            "device list",
        )
        return [
            Device(
                serial=str(item["device_sn"]),
                device_type=V1_DEVICE_TYPES.get(int(parse_number(item.get("type")) or 0))
                or DeviceType.OTHER,
                model=item.get("model") or None,
                datalogger_serial=item.get("datalogger_sn") or None,
            )
            for item in _list(data.get("devices", []), "device list")
            if item.get("device_sn")
        ]

    async def device_data(self, plant_id: str, device: Device) -> DeviceData | None:
        """Latest values of a TL-X or SPH device; None for other types.

        ``device/tlx/tlx_last_data`` or ``device/mix/mix_last_data`` (POST, form field
        ``tlx_sn``/``mix_sn``); None for other types (V1 support limited to these).
        """
        if device.device_type is DeviceType.TLX:
            data = await self._call(
                "POST", "device/tlx/tlx_last_data", data={"tlx_sn": device.serial}
            )
            fields = TLX_FIELDS
        elif device.device_type is DeviceType.MIX:
            data = await self._call(
                "POST", "device/mix/mix_last_data", data={"mix_sn": device.serial}
            )
            fields = MIX_V1_FIELDS
        else:
            return None
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
