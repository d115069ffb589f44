"""The Nomis API: optional key, rate limits, code lists, the geography decision, paged CSV, reading.

``GET {base('nomis')}/api/v01/dataset/<NM_id>.data.csv?<params>`` returns at
most 25,000 rows per call without a key and 100,000 with one (the nomisr
documentation, ``nomis_api_key``). Further pages are asked for with
``recordoffset``; ``RECORD_OFFSET``/``RECORD_COUNT`` (in ``select=``) say
where each row belongs and how many there are. Column names come back in
upper case. Nomis can answer HTTP 200 with a web page (an error or a rate
limit) or with a body cut off part-way when a query is too large: a page
is checked before it is kept, a cut-off last row is dropped and asked for
again, and the rows must follow on from each other and add up to
``RECORD_COUNT``.

Before the data request, the dataset's own metadata is read
(``<NM_id>/<dimension>.def.sdmx.json``, SDMX-JSON code lists):

* the code of every age, sex, measure and variable asked for must be in its
  code list (a renamed or withdrawn code stops the download with a message
  naming it, before any data is asked for);
* ``latest``/``latestMINUS<n>`` are resolved to months from the time code
  list, so the pages asked for are fixed and can be cached;
* with ``geographies:`` (a list, best first), the first geography whose own
  metadata lists areas and whose time code list holds every month asked
  for is used; the file records it (``GEOGRAPHY_TYPECODE``).

Calls are spaced (``WARDSCOPE_NOMIS_PAUSE_S``, default 1 s) and limited to
``WARDSCOPE_NOMIS_CALLS_PER_MINUTE`` (default 30). An API key (the "unique
ID" from a Nomis account, ``0x...``) comes from ``WARDSCOPE_NOMIS_KEY`` or the
file ``WARDSCOPE_NOMIS_KEY_FILE`` (default ``~/.config/wardscope/nomis-key``,
readable by its owner only; set but empty: no file). It is sent as ``uid`` and never logged, cached,
written to the store or shown in a message.

The downloaded file is the pages' rows under one header, in Nomis's own
column layout, so a mirror holding a saved API extract is read by the same
:func:`read_api_csv`.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import logging
import os
import re
import stat
import time
from pathlib import Path

import pandas as pd

from geo import atomic, fetch
from geo.download_cache import Downloader, WebPageError, fresh_if_inconsistent, looks_like_html
from geo.fetch import Transient
from geo.errors import PublisherError, SourceFileError, WardscopeError
from geo.online import VOLATILE_KINDS, moved_hint, register_fetcher
from geo.sources import Dataset

#: Rows Nomis returns per call without / with an API key.
PAGE_ROWS, PAGE_ROWS_WITH_KEY = 25_000, 100_000
#: Give up after this many pages (a runaway loop, or a much bigger answer than asked for).
MAX_PAGES = 400
REQUIRED = ("GEOGRAPHY_CODE", "OBS_VALUE")
KEY_ENV, KEY_FILE_ENV = "WARDSCOPE_NOMIS_KEY", "WARDSCOPE_NOMIS_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/wardscope/nomis-key")
KEY_PATTERN = re.compile(r"0x[0-9a-fA-F]{8,64}")
#: Dimensions whose codes are checked against the dataset's code lists before the data request.
CHECKED = ("age", "gender", "sex", "measure", "measures", "variable")
#: dataset id -> {dimension: {code: name}}: names a module expects (registered by layers.claimant).
EXPECTED_NAMES: dict[str, dict[str, dict[str, str]]] = {}
DEFAULT_PAUSE_S, DEFAULT_CALLS_PER_MINUTE = 1.0, 30


def api_url(nomis_dataset: str) -> str:
    return f"{fetch.base('nomis')}/api/v01/dataset/{nomis_dataset}.data.csv"


def def_url(nomis_dataset: str, concept: str) -> str:
    """The SDMX-JSON code list of ``concept`` (e.g. ``age``, ``time``, ``geography/2092957699TYPE151``)."""
    return f"{fetch.base('nomis')}/api/v01/dataset/{nomis_dataset}/{concept}.def.sdmx.json"


# --- the key -------------------------------------------------------------------------------------------

class NomisKeyError(WardscopeError):
    """The configured Nomis API key cannot be used (the message never contains the key)."""


def api_key() -> str | None:
    """The Nomis API key from ``WARDSCOPE_NOMIS_KEY`` or the key file, or None (download without a key)."""
    value = os.environ.get(KEY_ENV, "").strip()
    where = KEY_ENV
    if not value:
        named = os.environ.get(KEY_FILE_ENV)
        if named is not None and not named.strip():
            return None  # set but empty: no key file
        path = Path(named or DEFAULT_KEY_FILE).expanduser()
        if not path.is_file():
            if named:
                raise NomisKeyError(f"{KEY_FILE_ENV} names {path}, which is not a file")
            return None
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise NomisKeyError(f"the Nomis key file {path} can be read by other users; "
                                f"make it private (chmod 600 {path}) and run the install again")
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        value, where = (lines[0].strip() if lines else ""), f"the Nomis key file {path}"
    if not KEY_PATTERN.fullmatch(value):
        raise NomisKeyError(f"{where} does not hold a Nomis API key (the unique ID on your nomisweb.co.uk account "
                            f"page, starting 0x); fix it, or remove it to download without a key")
    return value


class _RedactKey(logging.Filter):
    """Keeps the key out of any log record (urllib3 logs every address it asks for at DEBUG level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "uid=" in text.lower():
            record.msg, record.args = fetch.redact(text), ()
        return True


_REDACT = _RedactKey()
for _name in ("urllib3.connectionpool", "requests"):
    if _REDACT not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACT)


def _refused_hint(key: str | None) -> str:
    if key:
        return (f": Nomis refused the API key (it may be wrong or expired); check {KEY_ENV} or the key file, "
                f"or remove it to download without a key")
    return ""


# --- rate limit ----------------------------------------------------------------------------------------

class CallLimit:
    """At most ``per_minute`` calls in any 60 seconds, and ``pause_s`` between two calls."""

    def __init__(self, per_minute: int, pause_s: float, clock=time.monotonic):
        self.per_minute, self.pause_s, self.clock = per_minute, pause_s, clock
        self.calls: collections.deque[float] = collections.deque()

    @classmethod
    def from_env(cls) -> "CallLimit":
        pause = fetch.env_number("WARDSCOPE_NOMIS_PAUSE_S", DEFAULT_PAUSE_S, minimum=0)
        per_minute = int(fetch.env_number("WARDSCOPE_NOMIS_CALLS_PER_MINUTE", DEFAULT_CALLS_PER_MINUTE, minimum=1))
        return cls(per_minute, pause)

    def wait(self) -> None:
        now = self.clock()
        while self.calls and now - self.calls[0] >= 60.0:
            self.calls.popleft()
        delay = 0.0
        if self.calls:
            delay = max(delay, self.calls[-1] + self.pause_s - now)
        if len(self.calls) >= self.per_minute:
            delay = max(delay, self.calls[-self.per_minute] + 60.0 - now)
        if delay > 0:
            fetch.sleep(delay)
        self.calls.append(max(now + max(delay, 0.0), self.clock()))


def _limit(dl: Downloader) -> CallLimit:
    return dl.limits.setdefault("nomis", CallLimit.from_env())


# --- metadata (SDMX-JSON code lists) -------------------------------------------------------------------

def _codes(path: Path, *, what: str) -> list[dict]:
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise PublisherError(f"{what}: Nomis metadata is not JSON") from None
    lists = ((doc.get("structure") or {}).get("codelists") or {}).get("codelist") if isinstance(doc, dict) else None
    if not lists:
        return []
    codes = lists[0].get("code") or []
    return codes if isinstance(codes, list) else [codes]


def codelist(dl: Downloader, ds: Dataset, concept: str, params: dict | None = None, *, key: str | None) -> dict[str, str]:
    """``{code: description}`` of one of the dataset's code lists (fresh, never cached); empty when it has none."""
    spec = ds.online
    what = f"{ds.title} (Nomis {spec['dataset']} {concept} code list)"
    asked = {**(params or {}), **({"uid": key} if key else {})}
    got = dl.fetch(def_url(spec["dataset"], concept), asked, what=what, publisher="Nomis", cache=False,
                   before=_limit(dl).wait, refused_hint=_refused_hint(key), missing_hint=moved_hint(ds),
                   check=lambda path: _codes(path, what=what))
    return {str(c.get("value")): str((c.get("description") or {}).get("value", "")) for c in got.value}


def check_codes(dl: Downloader, ds: Dataset, params: dict, *, key: str | None) -> None:
    """Every code asked for exists in its code list (and has the expected name, where one is registered)."""
    expected = EXPECTED_NAMES.get(ds.id, {})
    for dimension in CHECKED:
        if dimension not in params:
            continue
        codes = codelist(dl, ds, dimension, key=key)
        for code in str(params[dimension]).split(","):
            code = code.strip()
            if code not in codes:
                listed = ", ".join(f"{c} {n!r}" for c, n in list(codes.items())[:8])
                raise PublisherError(f"{ds.title}: Nomis {ds.online['dataset']} has no {dimension} code {code} "
                                     f"(its {dimension} codes: {listed or 'none'}); update the query in {ds.catalogue}")
            want = expected.get(dimension, {}).get(code)
            if want is not None and " ".join(codes[code].split()).casefold() != " ".join(want.split()).casefold():
                raise PublisherError(f"{ds.title}: Nomis {ds.online['dataset']} {dimension} code {code} is now "
                                     f"{codes[code]!r}, expected {want!r}; the code list has changed: update the "
                                     f"query in {ds.catalogue}")


def resolve_dates(selectors: str, published: list[str], *, ds: Dataset) -> list[str]:
    """``latest``, ``latestMINUS<n>`` (n periods earlier, as Nomis counts) or fixed codes, as published codes."""
    out = []
    for sel in [s.strip() for s in str(selectors).split(",") if s.strip()]:
        match = re.fullmatch(r"(?i)latest(?:minus(\d+))?", sel)
        if match:
            back = int(match.group(1) or 0)
            if back >= len(published):
                raise PublisherError(f"{ds.title}: Nomis {ds.online['dataset']} publishes {len(published)} periods, "
                                     f"so there is no {sel}")
            out.append(published[-1 - back])
        elif sel in published:
            out.append(sel)
        else:
            raise PublisherError(f"{ds.title}: Nomis {ds.online['dataset']} has no period {sel}")
    return out


def choose_geography(dl: Downloader, ds: Dataset, dates: list[str], *, key: str | None) -> str:
    """The first of ``online.geographies`` Nomis publishes every one of ``dates`` on (from its own metadata)."""
    reasons = []
    for choice in ds.online["geographies"]:
        areas = codelist(dl, ds, f"geography/{choice}", key=key)
        if not areas:
            reasons.append(f"{choice}: no areas")
            continue
        months = codelist(dl, ds, "time", {"geography": choice}, key=key)
        missing = [d for d in dates if d not in months]
        if missing:
            reasons.append(f"{choice}: no {', '.join(missing)}")
            continue
        return choice
    raise PublisherError(f"{ds.title}: Nomis {ds.online['dataset']} does not publish {', '.join(dates)} on any of "
                         f"the geographies asked for ({'; '.join(reasons)}); update {ds.catalogue}")


# --- data pages ----------------------------------------------------------------------------------------

class BrokenPages(PublisherError):
    """Nomis pages that do not follow on from each other, or do not add up to ``RECORD_COUNT``."""


def _page(path: Path, offset: int, *, what: str, url: str) -> tuple[list[str], list[list[str]], int | None]:
    """(header, complete rows, RECORD_COUNT) of one page; a row cut off at the end of the body is dropped."""
    body = path.read_bytes()
    if not body.strip():
        raise PublisherError(f"{what}: Nomis returned an empty answer for {url}")
    try:
        text = body.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PublisherError(f"{what}: Nomis returned text that is not CSV ({exc})") from None
    header = [h.strip().upper() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise PublisherError(f"{what}: Nomis answer has no {missing[0]} column (header: {', '.join(header[:6])}); "
                             f"is the geography valid for this dataset? {url}")
    data = rows[1:]
    if data and (not text.endswith(("\n", "\r")) or len(data[-1]) != len(header)):
        data = data[:-1]  # the body stopped part-way through its last row (HTTP 200, query too large)
        if not data:
            raise Transient("Nomis cut the page off before its first row",
                            PublisherError(f"{what}: Nomis cut off every answer for rows from {offset} "
                                           f"(the query may be too large); try again later"))
    if any(len(r) != len(header) for r in data):
        raise PublisherError(f"{what}: Nomis page at offset {offset} has rows with a different number of columns")
    total = None
    if "RECORD_COUNT" in header and data:
        cell = data[0][header.index("RECORD_COUNT")]
        try:
            total = int(cell)
        except ValueError:
            raise PublisherError(f"{what}: RECORD_COUNT {cell!r} is not a number") from None
    if "RECORD_OFFSET" in header and data:
        got = [r[header.index("RECORD_OFFSET")] for r in (data[0], data[-1])]
        if got != [str(offset), str(offset + len(data) - 1)]:
            raise BrokenPages(f"{what}: Nomis page asked from row {offset} holds rows {got[0]} to {got[1]}")
    return header, data, total


def _all_pages(dl: Downloader, ds: Dataset, params: dict, *, key: str | None, what: str):
    url = api_url(ds.online["dataset"])
    asked = {**params, **({"uid": key} if key else {})}
    header, rows, total, pages = None, [], None, 0
    while True:
        if pages >= MAX_PAGES:
            raise PublisherError(f"{what}: more than {MAX_PAGES} pages; stopping")
        offset = len(rows)
        page_params = {**asked, "recordoffset": str(offset)} if offset else asked
        got = dl.fetch(url, page_params, what=what, publisher="Nomis", max_age_s=VOLATILE_KINDS["nomis_api"],
                       before=_limit(dl).wait, refused_hint=_refused_hint(key), missing_hint=moved_hint(ds),
                       check=lambda path, o=offset: _page(path, o, what=what, url=fetch.redact(url)))
        more_header, more, count = got.value
        pages += 1
        if header is None:
            header, total = more_header, count
        elif more_header != header:
            raise PublisherError(f"{what}: page {pages} has different columns from page 1")
        if not more:
            break
        rows.extend(more)
        if total is not None and len(rows) >= total:
            break
        if total is None and len(more) < PAGE_ROWS:
            break
    if total is not None and len(rows) != total:
        raise BrokenPages(f"{what}: Nomis said {total} rows but sent {len(rows)}")
    return header, rows


def fetch_api(ds: Dataset, dest: Path, dl: Downloader) -> Path:
    """Every page of a Nomis API query (``ds.online``: ``dataset``, ``params``, optional ``geographies``) into ``dest``."""
    spec = ds.online
    what = f"{ds.title} (Nomis {spec['dataset']})"
    params = {k: str(v) for k, v in spec.get("params", {}).items()}
    key = api_key()
    try:
        check_codes(dl, ds, params, key=key)
        if "date" in params:
            published = list(codelist(dl, ds, "time", key=key))
            if all(re.fullmatch(r"\d{4}-\d{2}", d) for d in published):
                published.sort()  # months: code order is time order
            params["date"] = ",".join(resolve_dates(params["date"], published, ds=ds))
        if spec.get("geographies"):
            params["geography"] = choose_geography(dl, ds, params["date"].split(","), key=key)
        header, rows = fresh_if_inconsistent(dl, lambda: _all_pages(dl, ds, params, key=key, what=what), BrokenPages)
    except WebPageError as exc:
        if key:
            raise WebPageError(f"{exc}; if the Nomis API key is wrong or expired, fix {KEY_ENV} (or the key file) "
                               f"or remove it to download without a key") from None
        raise

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    return atomic.write_with(Path(dest), write)


register_fetcher("nomis_api", fetch_api)


# --- reading -------------------------------------------------------------------------------------------

def read_api_csv(path: Path, required: list[str], *, source: str, optional: tuple[str, ...] = ()) -> pd.DataFrame:
    """A Nomis API CSV (downloaded or from a mirror) with ``required`` upper-case columns, as text.

    ``optional`` columns are kept when present. Index is the file row minus 2, for messages.
    """
    path = Path(path)
    try:
        head = path.read_bytes()[:2048]
    except FileNotFoundError:
        raise SourceFileError(f"{source}: file not found") from None
    if looks_like_html(head):
        raise SourceFileError(f"{source}: is a web page, not a Nomis CSV")
    try:
        frame = pd.read_csv(path, dtype=object, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SourceFileError(f"{source}: malformed CSV ({str(exc).strip().splitlines()[0]})") from None
    frame.columns = [str(c).strip().upper() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SourceFileError(f"{source}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns[:8])}")
    if frame.empty:
        raise SourceFileError(f"{source}: has a header but no rows")
    return frame[list(required) + [c for c in optional if c in frame.columns]]


def obs_values(frame: pd.DataFrame, *, source: str) -> pd.Series:
    """``OBS_VALUE`` as numbers; blank or non-'A' (not normal) status gives NaN; text that is not a number is an error."""
    text = frame["OBS_VALUE"].fillna("").astype(str).str.strip()
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = values.isna() & (text != "")
    if bad.any():
        pos = int(bad.to_numpy().argmax())
        raise SourceFileError(f"{source}: row {frame.index[pos] + 2}: OBS_VALUE {text.iloc[pos]!r} is not a number")
    if "OBS_STATUS" in frame.columns:
        status = frame["OBS_STATUS"].fillna("A").astype(str).str.strip()
        values = values.where(status.isin(["A", ""]))
    neg = values < 0
    if neg.any():
        pos = int(neg.to_numpy().argmax())
        raise SourceFileError(f"{source}: row {frame.index[pos] + 2}: OBS_VALUE {values.iloc[pos]:g} is negative")
    return values.astype("float64")
