"""The Nomis API (CSV): paged download, error pages, and reading the result.

``GET {base('nomis')}/api/v01/dataset/<NM_id>.data.csv?<params>`` returns at
most 25,000 rows per call (anonymous). The first page's ``RECORD_COUNT``
gives the total; further pages are asked for with ``recordoffset``. Column
names come back in upper case (``select=`` picks them). Nomis can answer
HTTP 200 with an HTML page (an error or rate limit), so every page is
checked before anything is written: a bad page fails the download and
leaves nothing in the cache.

The downloaded file is the pages' rows under one header, in Nomis's own
column layout, so a mirror holding a saved API extract is read by the same
:func:`read_api_csv`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from geo import atomic
from geo.errors import PublisherError, SourceFileError
from geo.fetch import base, get
from geo.online import looks_like_html, page_title, register_fetcher
from geo.sources import Dataset

#: Rows Nomis returns per call without an API key.
PAGE_ROWS = 25_000
#: Give up after this many pages (a runaway loop, or a much bigger answer than asked for).
MAX_PAGES = 400
REQUIRED = ("GEOGRAPHY_CODE", "OBS_VALUE")


def api_url(nomis_dataset: str) -> str:
    return f"{base('nomis')}/api/v01/dataset/{nomis_dataset}.data.csv"


def _page(url: str, params: dict, *, what: str) -> tuple[list[str], list[list[str]]]:
    response = get(url, params, what=what)
    body = response.content
    ctype = response.headers.get("Content-Type", "")
    if not body.strip():
        raise PublisherError(f"{what}: Nomis returned an empty answer for {response.url}")
    if "html" in ctype.lower() or looks_like_html(body):
        raise PublisherError(f"{what}: Nomis returned a web page, not CSV ({page_title(body)!r}); "
                             f"the request may be wrong or rate-limited: {response.url}")
    try:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PublisherError(f"{what}: Nomis returned text that is not CSV ({exc})") from None
    header = [h.strip().upper() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise PublisherError(f"{what}: Nomis answer has no {missing[0]} column (header: {', '.join(header[:6])}); "
                             f"is the geography valid for this dataset? {response.url}")
    return header, rows[1:]


def fetch_api(ds: Dataset, dest: Path, *, page_rows: int | None = None) -> Path:
    """Download every page of a Nomis API query (``ds.online``: ``dataset``, ``params``) into ``dest`` (CSV)."""
    spec = ds.online
    url = api_url(spec["dataset"])
    what = f"{ds.title} (Nomis {spec['dataset']})"
    params = {k: str(v) for k, v in spec.get("params", {}).items()}
    header, rows = _page(url, params, what=what)
    total = None
    if "RECORD_COUNT" in header and rows:
        try:
            total = int(rows[0][header.index("RECORD_COUNT")])
        except ValueError:
            raise PublisherError(f"{what}: RECORD_COUNT {rows[0][header.index('RECORD_COUNT')]!r} is not a number") from None
    limit = page_rows or PAGE_ROWS
    pages = 1
    last = len(rows)
    while rows and ((total is not None and len(rows) < total) or (total is None and last >= limit)):
        if pages >= MAX_PAGES:
            raise PublisherError(f"{what}: more than {MAX_PAGES} pages; stopping")
        more_header, more = _page(url, {**params, "recordoffset": str(len(rows))}, what=what)
        if more_header != header:
            raise PublisherError(f"{what}: page {pages + 1} has different columns from page 1")
        if not more:
            break
        rows.extend(more)
        last = len(more)
        pages += 1
    if total is not None and len(rows) != total:
        raise PublisherError(f"{what}: Nomis said {total} rows but sent {len(rows)}")

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    return atomic.write_with(Path(dest), write)


register_fetcher("nomis_api", fetch_api)


def read_api_csv(path: Path, required: list[str], *, source: str) -> pd.DataFrame:
    """A Nomis API CSV (downloaded or from a mirror) with ``required`` upper-case columns, as text.

    Index is the file row minus 2, for messages.
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
    return frame[required]


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
