"""Typed failures of the Growatt cloud client.

Every failure is a :class:`GrowattCloudError`; callers branch on the subclass:

* :class:`GrowattAuthError`: the username/password (ShinePhone login answer ``msg`` "502")
  or the API token (OpenAPI V1 error 10011) was refused. Retrying does not help.
* :class:`GrowattAccountLockedError`: the ShinePhone login answered ``msg`` "507": Growatt
  has locked the account (for 24 h, ``lockDuration`` hours when the answer says so) after
  too many requests. Every further login extends the lock.
* :class:`GrowattRateLimitedError`: OpenAPI V1 error 10012 ("frequent access", at most one
  call per endpoint every 5 minutes) or HTTP 429.
* :class:`GrowattBlockedError` (a rate limit): HTTP 403 without the API's JSON error body,
  as a CDN answers a blocked User-Agent or address. Not a credentials problem: back off,
  never start reauthentication.
* :class:`GrowattUnavailableError`: network failure, timeout, HTTP 5xx, an answer that is
  not the expected JSON, or any other error code. Retrying later may help.
"""

from __future__ import annotations

from datetime import timedelta


class GrowattCloudError(Exception):
    """Base class of every Growatt cloud failure."""


class GrowattAuthError(GrowattCloudError):
    """Credentials (password or token) refused."""


class GrowattAccountLockedError(GrowattCloudError):
    """The account is locked (ShinePhone login ``msg`` "507").

    ``duration`` is the lock's length from the answer (``lockDuration``, hours), or None
    when the answer did not say; Growatt's lock lasts 24 hours.
    """

    def __init__(self, message: str, duration: timedelta | None = None) -> None:
        super().__init__(message)
        self.duration = duration


class GrowattRateLimitedError(GrowattCloudError):
    """Too many requests (OpenAPI V1 error 10012 or HTTP 429)."""


class GrowattBlockedError(GrowattRateLimitedError):
    """HTTP 403 without the API's error body (a CDN block): back off, not reauth."""


class GrowattUnavailableError(GrowattCloudError):
    """The cloud could not be reached or gave an unusable answer."""


class GrowattSessionExpiredError(GrowattCloudError):
    """The ShinePhone session cookie is no longer valid (internal: triggers one re-login)."""
