"""HTTP requests to the official publishers: retries with backoff, and messages a user can act on.

Base addresses can be moved with environment variables (tests point them at
a local server that replays recorded responses):

* ``WARDSCOPE_ONS_ARCGIS``: ONS Open Geography Portal feature services
* ``WARDSCOPE_NOMIS``: Nomis (Census 2021 bulk files and the API)
* ``WARDSCOPE_GOVUK``: GOV.UK published files (Indices of Deprivation)
* ``WARDSCOPE_UNPKG``: the unpkg CDN serving npm packages (railway stations)
* ``WARDSCOPE_ELS``: the ONS Explore Local Statistics data repository (district labour-market files)

A request that fails for a reason that may pass (no connection, a timeout,
HTTP 429 or 5xx, a body cut off part-way) is tried again after a pause that
doubles each time (:class:`RetryPolicy`; ``Retry-After`` is honoured up to a
cap), and every failed attempt is reported in one line. Other answers (404,
403, a web page instead of data) fail at once: asking again would not help.
The retry settings come from the environment so tests can make the pauses
tiny: ``WARDSCOPE_RETRY_ATTEMPTS``, ``WARDSCOPE_RETRY_BASE_S``,
``WARDSCOPE_RETRY_AFTER_MAX_S``, ``WARDSCOPE_HTTP_TIMEOUT_S``.

Query parameters named in :data:`SECRET_PARAMS` (the Nomis API key) are
replaced by ``***`` in every address this module puts in a message.
"""

from __future__ import annotations

import email.utils
import os
import re
import time
from dataclasses import dataclass
from typing import Callable, TypeVar
from urllib.parse import urlparse

import requests

from geo.errors import OfflineError, PublisherError, WardscopeError

DEFAULT_BASES = {
    "ons": "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services",
    "nomis": "https://www.nomisweb.co.uk",
    "govuk": "https://assets.publishing.service.gov.uk",
    "unpkg": "https://unpkg.com",
    "els": "https://raw.githubusercontent.com/ONSdigital/explore-local-statistics-data",
}
ENV = {"ons": "WARDSCOPE_ONS_ARCGIS", "nomis": "WARDSCOPE_NOMIS", "govuk": "WARDSCOPE_GOVUK", "unpkg": "WARDSCOPE_UNPKG",
       "els": "WARDSCOPE_ELS"}
USER_AGENT = "Wardscope (https://github.com/; council employment-support planning tool)"
#: Query parameters that are secrets (the Nomis API key is ``uid``): never shown, logged or cached.
SECRET_PARAMS = ("uid",)
#: Answers worth asking again for: rate limited, or the server is failing for now.
RETRY_STATUSES = {429, 500, 502, 503, 504}
MB = 1024 * 1024
T = TypeVar("T")

#: Replaced by tests (a recording sleep); real waits otherwise.
sleep: Callable[[float], None] = time.sleep


def base(publisher: str) -> str:
    """The base address of ``publisher`` (a key of :data:`DEFAULT_BASES`), without a trailing slash."""
    return (os.environ.get(ENV[publisher]) or DEFAULT_BASES[publisher]).rstrip("/")


def redact(url: str) -> str:
    """``url`` with the values of :data:`SECRET_PARAMS` replaced by ``***``."""
    for name in SECRET_PARAMS:
        url = re.sub(rf"(?i)([?&]{name}=)[^&#]*", r"\1***", url)
    return url


def host_of(url: str) -> str:
    return urlparse(url).netloc or url


def size_text(nbytes: float) -> str:
    """A size for people: ``850 KB``, ``12.4 MB``."""
    if nbytes < MB:
        return f"{max(nbytes / 1024, 0.1 if nbytes else 0):.0f} KB" if nbytes >= 1024 else f"{int(nbytes)} bytes"
    return f"{nbytes / MB:.1f} MB"


def env_number(name: str, default: float, *, minimum: float) -> float:
    """A number from the environment variable ``name`` (``default`` when unset); one line naming it when bad."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise WardscopeError(f"{name} must be a number of at least {minimum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to ask again (seconds)."""

    attempts: int = 4
    base_s: float = 2.0
    max_backoff_s: float = 60.0
    #: A ``Retry-After`` longer than this is cut to it (a server asking for an hour would stall the install).
    retry_after_max_s: float = 120.0
    timeout_s: float = 120.0
    connect_timeout_s: float = 30.0

    @classmethod
    def from_env(cls) -> "RetryPolicy":
        return cls(attempts=int(env_number("WARDSCOPE_RETRY_ATTEMPTS", cls.attempts, minimum=1)),
                   base_s=env_number("WARDSCOPE_RETRY_BASE_S", cls.base_s, minimum=0),
                   retry_after_max_s=env_number("WARDSCOPE_RETRY_AFTER_MAX_S", cls.retry_after_max_s, minimum=0),
                   timeout_s=env_number("WARDSCOPE_HTTP_TIMEOUT_S", cls.timeout_s, minimum=0.01),
                   connect_timeout_s=min(cls.connect_timeout_s,
                                         env_number("WARDSCOPE_HTTP_TIMEOUT_S", cls.connect_timeout_s, minimum=0.01)))

    def backoff_s(self, attempt: int) -> float:
        """The pause after failed attempt number ``attempt`` (1-based): doubling, capped."""
        return min(self.base_s * 2 ** (attempt - 1), self.max_backoff_s)

    def pause_s(self, attempt: int, retry_after: float | None) -> float:
        wait = self.backoff_s(attempt)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_max_s))
        return wait


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Transient(Exception):
    """An attempt failed in a way that may pass; ``final`` is the error to raise when no attempts are left."""

    def __init__(self, reason: str, final: WardscopeError, retry_after: float | None = None):
        super().__init__(reason)
        self.reason, self.final, self.retry_after = reason, final, retry_after


class Reporter:
    """Where retry notices and bytes received go (``geo.progress.InstallReport`` implements it); silent by default."""

    def attempt(self, message: str) -> None:
        pass

    def transferred(self, nbytes: int) -> None:
        pass


def retrying(attempt: Callable[[int], T], *, what: str, policy: RetryPolicy, report: Reporter) -> T:
    """Call ``attempt(n)`` until it returns, pausing after each :class:`Transient` failure.

    Each failure that will be retried is reported in one line naming the
    dataset, what went wrong and the pause; the last one raises its
    ``final`` error, which says how many attempts were made.
    """
    for n in range(1, policy.attempts + 1):
        try:
            return attempt(n)
        except Transient as failed:
            if n == policy.attempts:
                text = str(failed.final)
                suffix = f" (tried {n} times)" if n > 1 else ""
                raise type(failed.final)(f"{text}{suffix}") from None
            wait = policy.pause_s(n, failed.retry_after)
            asked = f", as the server asked" if failed.retry_after is not None and wait > policy.backoff_s(n) else ""
            report.attempt(f"{what}: attempt {n} of {policy.attempts} failed ({failed.reason}); "
                           f"trying again in {wait:.3g} s{asked}")
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def unreachable(what: str, host: str, detail: str) -> OfflineError:
    return OfflineError(f"cannot download {what}: {host} is unreachable ({detail}). Check the network (and the "
                        f"proxy settings, HTTPS_PROXY), or install from a local mirror: python cli.py install --from DIR")


def broke_off(what: str, host: str, detail: str) -> OfflineError:
    return OfflineError(
        f"cannot download {what}: the connection to {host} broke off during the download ({detail}). Run the install "
        f"again (what arrived is kept), or install from a local mirror: python cli.py install --from DIR")


def open_response(session: requests.Session, url: str, params: dict | None, *, what: str, policy: RetryPolicy,
                  headers: dict | None = None, stream: bool = False, refused_hint: str = "",
                  missing_hint: str = "") -> requests.Response:
    """One GET: a 2xx response, or :class:`Transient` (worth retrying), or :class:`PublisherError` (not).

    ``refused_hint`` is added to the message for HTTP 401/403 (e.g. about an
    API key), ``missing_hint`` for 404/410 (where the file may have moved).
    """
    host = host_of(url)
    try:
        response = session.get(url, params=params, stream=stream, headers={"User-Agent": USER_AGENT, **(headers or {})},
                               timeout=(policy.connect_timeout_s, policy.timeout_s))
    except requests.Timeout as exc:
        raise Transient(f"no answer within {policy.timeout_s:g} s", unreachable(what, host, type(exc).__name__)) from None
    except requests.ConnectionError as exc:
        dropped = "aborted" in str(exc) or "RemoteDisconnected" in str(exc)
        reason = f"{host} closed the connection without answering" if dropped else f"cannot connect to {host}"
        raise Transient(reason, unreachable(what, host, type(exc).__name__)) from None
    except requests.RequestException as exc:  # e.g. ChunkedEncodingError: the body was cut off
        raise Transient("the connection broke off", broke_off(what, host, type(exc).__name__)) from None
    status = response.status_code
    if status < 400:
        return response
    shown = redact(response.url)
    response.close()
    if status in RETRY_STATUSES:
        if status == 429:
            final = PublisherError(f"{what}: {host} answered HTTP 429 (too many requests) for {shown}; "
                                   f"wait a few minutes and run the install again")
        else:
            final = PublisherError(f"{what}: {host} answered HTTP {status} for {shown}; the service may be down: "
                                   f"try again later")
        raise Transient(f"HTTP {status} from {host}", final, retry_after_s(response.headers.get("Retry-After")))
    hint = refused_hint if status in (401, 403) else missing_hint if status in (404, 410) else ""
    raise PublisherError(f"{what}: {host} answered HTTP {status} for {shown}{hint}")
