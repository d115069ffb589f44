"""HTTP downloads from the official publishers, with messages a user can act on.

Base addresses can be moved with environment variables (tests point them at
a local server that replays recorded responses):

* ``WARDSCOPE_ONS_ARCGIS``: ONS Open Geography Portal feature services
* ``WARDSCOPE_NOMIS``: Nomis (Census 2021 bulk files and the API)
* ``WARDSCOPE_GOVUK``: GOV.UK published files (Indices of Deprivation)
* ``WARDSCOPE_UNPKG``: the unpkg CDN serving npm packages (railway stations)
* ``WARDSCOPE_ELS``: the ONS Explore Local Statistics data repository (district labour-market files)
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import requests

from geo import atomic
from geo.errors import OfflineError, PublisherError

DEFAULT_BASES = {
    "ons": "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services",
    "nomis": "https://www.nomisweb.co.uk",
    "govuk": "https://assets.publishing.service.gov.uk",
    "unpkg": "https://unpkg.com",
    "els": "https://raw.githubusercontent.com/ONSdigital/explore-local-statistics-data",
}
ENV = {"ons": "WARDSCOPE_ONS_ARCGIS", "nomis": "WARDSCOPE_NOMIS", "govuk": "WARDSCOPE_GOVUK", "unpkg": "WARDSCOPE_UNPKG",
       "els": "WARDSCOPE_ELS"}
#: Seconds to wait for a publisher to answer.
TIMEOUT_S = 120
USER_AGENT = "Wardscope (https://github.com/; council employment-support planning tool)"


def base(publisher: str) -> str:
    """The base address of ``publisher`` (a key of :data:`DEFAULT_BASES`), without a trailing slash."""
    return (os.environ.get(ENV[publisher]) or DEFAULT_BASES[publisher]).rstrip("/")


def _broke_off(what: str, host: str, exc: Exception) -> OfflineError:
    return OfflineError(
        f"cannot download {what}: the connection to {host} broke off during the download ({type(exc).__name__}). "
        f"Try again, or install from a local mirror: python cli.py install --from DIR")


def get(url: str, params: dict | None = None, *, what: str, stream: bool = False) -> requests.Response:
    """GET ``url``; raise :class:`OfflineError` when unreachable, :class:`PublisherError` on HTTP errors.

    ``what`` names the dataset in messages. An answer cut off part-way (the
    connection dropped before the whole body came) is an :class:`OfflineError`
    too, never a half-read body.
    """
    host = urlparse(url).netloc
    try:
        response = requests.get(url, params=params, timeout=TIMEOUT_S, stream=stream, headers={"User-Agent": USER_AGENT})
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise OfflineError(
            f"cannot download {what}: {host} is unreachable ({type(exc).__name__}). "
            f"Check the network, or install from a local mirror: python cli.py install --from DIR"
        ) from None
    except requests.RequestException as exc:  # e.g. ChunkedEncodingError: the body was cut off
        raise _broke_off(what, host, exc) from None
    if response.status_code >= 400:
        raise PublisherError(f"{what}: {host} answered HTTP {response.status_code} for {response.url}")
    return response


def download(url: str, dest: Path, params: dict | None = None, *, what: str) -> Path:
    """Stream ``url`` to ``dest`` atomically; returns ``dest`` (nothing is left behind if the download breaks off)."""
    response = get(url, params, what=what, stream=True)

    def write(tmp: Path) -> None:
        try:
            with open(tmp, "wb") as handle:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    handle.write(chunk)
        except requests.RequestException as exc:
            raise _broke_off(what, urlparse(url).netloc, exc) from None
        finally:
            response.close()

    return atomic.write_with(Path(dest), write)
