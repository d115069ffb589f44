"""The downloader: retries and their messages, Retry-After, resuming with Range, the content-addressed cache."""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from geo.download_cache import Downloader, WebPageError, request_key
from geo.errors import DiskFull, OfflineError, PublisherError
from geo.fetch import RetryPolicy, redact, retry_after_s
from tests import publishers as pub

BODY = os.urandom(300_000)


class Notes:
    def __init__(self):
        self.attempts, self.bytes = [], 0

    def attempt(self, message):
        self.attempts.append(message)

    def transferred(self, nbytes):
        self.bytes += nbytes


def downloader(tmp_path, **policy) -> tuple[Downloader, Notes]:
    notes = Notes()
    return Downloader(tmp_path / "downloads", report=notes, policy=RetryPolicy(base_s=0.001, **policy)), notes


def _ranges(fake_http):
    return [h.get("Range") for h in fake_http.headers]


def test_a_failing_server_is_asked_again_with_one_line_per_attempt(fake_http, tmp_path):
    fake_http.route("/f.csv", pub.flaky(pub.StaticFile(b"a,b\n1,2\n", "text/csv"), "503", "429 1", "drop"))
    dl, notes = downloader(tmp_path, retry_after_max_s=0.01)
    got = dl.fetch(fake_http.url + "/f.csv", what="Test file")
    assert got.path.read_bytes() == b"a,b\n1,2\n" and len(fake_http.requests) == 4
    assert [a.split(" failed (")[1].split(")")[0] for a in notes.attempts] == [
        f"HTTP 503 from {fake_http.url[7:]}", f"HTTP 429 from {fake_http.url[7:]}",
        f"{fake_http.url[7:]} closed the connection without answering"]
    assert all(a.startswith("Test file: attempt ") and "trying again in" in a for a in notes.attempts)


def test_the_last_failure_says_how_many_times_it_was_tried(fake_http, tmp_path):
    fake_http.route("/f.csv", lambda q: (502, "text/html", b"<html>bad gateway</html>"))
    dl, notes = downloader(tmp_path, attempts=3)
    with pytest.raises(PublisherError, match=r"^Test file: 127.0.0.1:\d+ answered HTTP 502 for .*/f.csv; the service may "
                                             r"be down: try again later \(tried 3 times\)$"):
        dl.fetch(fake_http.url + "/f.csv", what="Test file")
    assert len(fake_http.requests) == 3 and len(notes.attempts) == 2


def test_answers_that_will_not_change_are_not_retried(fake_http, tmp_path):
    fake_http.route("/gone.csv", lambda q: (404, "text/html", b"<html>Not here</html>"))
    fake_http.route("/login", lambda q: (200, "text/html; charset=utf-8", pub.PROXY_LOGIN))
    dl, notes = downloader(tmp_path)
    with pytest.raises(PublisherError, match="answered HTTP 404"):
        dl.fetch(fake_http.url + "/gone.csv", what="Test file", missing_hint=": it moved")
    with pytest.raises(WebPageError, match=r"returned a web page, not the data \('Sign in to continue - Council Web "
                                           r"Gateway'\); if your network needs you to sign in to a proxy"):
        dl.fetch(fake_http.url + "/login", what="Test file")
    assert len(fake_http.requests) == 2 and not notes.attempts
    assert not list((tmp_path / "downloads").glob("*/*"))  # nothing kept of either


def test_a_timeout_is_retried_and_named(fake_http, tmp_path):
    fake_http.route("/slow.csv", pub.flaky(pub.StaticFile(b"x\n1\n", "text/csv"), "slow 3"))
    dl, notes = downloader(tmp_path, timeout_s=1.0)
    assert dl.fetch(fake_http.url + "/slow.csv", what="Test file").path.read_bytes() == b"x\n1\n"
    assert "(no answer within 1 s)" in notes.attempts[0]


def test_nothing_listening_is_an_offline_error(tmp_path):
    dl, notes = downloader(tmp_path, attempts=2)
    with pytest.raises(OfflineError, match=r"cannot download Test file: 127.0.0.1:9 is unreachable .*install --from DIR "
                                           r"\(tried 2 times\)"):
        dl.fetch("http://127.0.0.1:9/f.csv", what="Test file")
    assert "cannot connect to 127.0.0.1:9" in notes.attempts[0]


def test_retry_after_is_honoured_up_to_a_cap(fake_http, tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr("geo.fetch.sleep", waits.append)
    later = email.utils.formatdate(1_800_000_000 + 90, usegmt=True)
    assert retry_after_s("120") == 120 and retry_after_s(later, now=1_800_000_000) == pytest.approx(90)
    assert retry_after_s("soon") is None and retry_after_s(None) is None
    fake_http.route("/f.csv", pub.flaky(pub.StaticFile(b"x\n", "text/csv"), "429 5", "429 100000"))
    dl, notes = downloader(tmp_path, retry_after_max_s=60)
    dl.fetch(fake_http.url + "/f.csv", what="Test file")
    assert waits == [5.0, 60.0] and all("as the server asked" in a for a in notes.attempts)


def test_a_cut_off_download_resumes_with_range(fake_http, tmp_path):
    fake_http.route("/f.zip", pub.flaky(pub.StaticFile(BODY, "application/zip", etag='"v1"'), "cut"))
    dl, notes = downloader(tmp_path)
    got = dl.fetch(fake_http.url + "/f.zip", what="Test file")
    assert got.path.read_bytes() == BODY and got.resumed
    assert _ranges(fake_http) == [None, f"bytes={len(BODY) // 2}-"] and fake_http.headers[1]["If-Range"] == '"v1"'
    assert notes.bytes == len(BODY)  # the first half was not downloaded twice
    assert "only 146 KB of 293 KB arrived" in notes.attempts[0]


def test_a_server_that_ignores_range_sends_the_whole_file_again(fake_http, tmp_path):
    fake_http.route("/f.zip", pub.flaky(pub.StaticFile(BODY, "application/zip", ranges=False), "cut"))
    dl, notes = downloader(tmp_path)
    got = dl.fetch(fake_http.url + "/f.zip", what="Test file")
    assert got.path.read_bytes() == BODY and not got.resumed
    assert _ranges(fake_http) == [None, None]  # no Accept-Ranges: the partial was discarded, not resumed


def test_a_file_that_changed_between_attempts_is_not_spliced(fake_http, tmp_path):
    new = os.urandom(len(BODY))
    first = pub.StaticFile(BODY, "application/zip", etag='"v1"')
    second = pub.StaticFile(new, "application/zip", etag='"v2"')
    calls = []

    def server(query, headers):
        calls.append(headers.get("If-Range"))
        return pub.flaky(first, "cut")(query, headers) if len(calls) == 1 else second(query, headers)

    server.wants_headers = True
    fake_http.route("/f.zip", server)
    got = downloader(tmp_path)[0].fetch(fake_http.url + "/f.zip", what="Test file")
    assert calls == [None, '"v1"'] and got.path.read_bytes() == new  # If-Range failed: the whole new file came


def test_a_weak_etag_cannot_resume(fake_http, tmp_path):
    fake_http.route("/f.csv", pub.flaky(pub.StaticFile(BODY, "text/csv", etag='W/"v1"'), "cut"))
    downloader(tmp_path)[0].fetch(fake_http.url + "/f.csv", what="Test file")
    assert _ranges(fake_http) == [None, None]  # RFC 9110 13.1.5: If-Range needs a strong validator


def test_a_partial_download_is_resumed_by_the_next_install(fake_http, tmp_path):
    fake_http.route("/f.zip", pub.flaky(pub.StaticFile(BODY, "application/zip"), "cut"))
    dl, _ = downloader(tmp_path, attempts=1)
    with pytest.raises(OfflineError, match="broke off during the download"):
        dl.fetch(fake_http.url + "/f.zip", what="Test file")
    (part,) = (tmp_path / "downloads" / "partial").glob("*.part")
    assert part.stat().st_size == len(BODY) // 2
    got = downloader(tmp_path)[0].fetch(fake_http.url + "/f.zip", what="Test file")
    assert got.path.read_bytes() == BODY and got.resumed and not part.exists()


def test_the_cache_is_content_addressed_checked_and_keeps_no_secret(fake_http, tmp_path):
    fake_http.route("/api.csv", lambda q: (200, "text/csv", f"v\n{q.get('n')}\n".encode()))
    secret = "0xfeedfacefeedfacefeedfacefeedface"
    dl, _ = downloader(tmp_path)
    got = dl.fetch(fake_http.url + "/api.csv", {"n": "1", "uid": secret}, what="Test")
    assert got.path.name == hashlib.sha256(b"v\n1\n").hexdigest() and not got.from_cache
    again = dl.fetch(fake_http.url + "/api.csv", {"uid": "0xother000", "n": "1"}, what="Test")  # same request, any key
    assert again.from_cache and again.path == got.path and len(fake_http.requests) == 1
    for path in (tmp_path / "downloads").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()
    ref = json.loads((tmp_path / "downloads" / "refs" / f"{request_key(fake_http.url + '/api.csv', {'n': '1'})}.json")
                     .read_text())
    assert ref["url"].endswith("uid=***") and ref["bytes"] == 4
    got.path.write_bytes(b"v\n9\n")  # damaged on disk: it no longer matches its hash
    fresh = dl.fetch(fake_http.url + "/api.csv", {"n": "1"}, what="Test")
    assert not fresh.from_cache and fresh.path.read_bytes() == b"v\n1\n" and len(fake_http.requests) == 2
    assert redact("http://x/a?uid=0xabc&n=1") == "http://x/a?uid=***&n=1"


def test_answers_failing_their_check_are_not_kept_and_cached_ones_are_checked_again(fake_http, tmp_path):
    fake_http.route("/a.json", lambda q: (200, "application/json", b'{"ok": false}'))
    dl, _ = downloader(tmp_path)

    def strict(path):
        if not json.loads(path.read_bytes())["ok"]:
            raise PublisherError("not ok")
        return "fine"

    with pytest.raises(PublisherError, match="not ok"):
        dl.fetch(fake_http.url + "/a.json", what="Test", check=strict)
    assert not list((tmp_path / "downloads").glob("refs/*"))
    assert dl.fetch(fake_http.url + "/a.json", what="Test").from_cache is False  # kept without the check...
    with pytest.raises(PublisherError, match="not ok"):  # ...and checked again on the way out of the cache
        dl.fetch(fake_http.url + "/a.json", what="Test", check=strict)
    assert len(fake_http.requests) == 3


def test_monthly_answers_expire_and_unreferenced_bytes_are_removed(fake_http, tmp_path):
    fake_http.route("/m.csv", lambda q: (200, "text/csv", b"month\n2025-06\n"))
    fake_http.route("/y.csv", lambda q: (200, "text/csv", b"year\n2025\n"))
    dl, _ = downloader(tmp_path)
    month = dl.fetch(fake_http.url + "/m.csv", what="Test", max_age_s=3600)
    dl.fetch(fake_http.url + "/y.csv", what="Test")
    assert dl.fetch(fake_http.url + "/m.csv", what="Test", max_age_s=3600).from_cache
    assert not dl.fetch(fake_http.url + "/m.csv", what="Test", max_age_s=0).from_cache  # too old for this caller
    ref = tmp_path / "downloads" / "refs" / f"{request_key(fake_http.url + '/m.csv', None)}.json"
    info = json.loads(ref.read_text())
    ref.write_text(json.dumps({**info, "fetched_at": info["fetched_at"] - 7200}))
    assert dl.cache.expire(3600) == 1 and not month.path.exists() and not ref.exists()
    assert dl.fetch(fake_http.url + "/y.csv", what="Test").from_cache  # fixed answers never expire


def test_a_full_disk_is_one_line_and_keeps_what_arrived(fake_http, tmp_path):
    """A real ENOSPC from a tiny tmpfs (needs root to mount one; tests/test_install_online_e2e.py covers it anywhere)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny tmpfs needs root")
    disk = tmp_path / "tiny"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        fake_http.route("/small.csv", pub.StaticFile(b"a\n1\n", "text/csv"))
        fake_http.route("/big.zip", pub.StaticFile(BODY, "application/zip"))
        dl = Downloader(disk / "downloads", policy=RetryPolicy(base_s=0.001))
        small = dl.fetch(fake_http.url + "/small.csv", what="Small file")
        with pytest.raises(DiskFull) as err:
            dl.fetch(fake_http.url + "/big.zip", what="Big file")
        assert str(err.value).startswith(f"cannot save Big file: the disk holding {disk / 'downloads'} is full (")
        assert "\n" not in str(err.value) and len(fake_http.requests) == 2  # a full disk is not retried
        assert small.path.read_bytes() == b"a\n1\n" and dl.fetch(fake_http.url + "/small.csv", what="Small").from_cache
        (part,) = (disk / "downloads" / "partial").glob("*.part")
        assert 0 < part.stat().st_size < len(BODY)  # kept, to resume once there is room
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_part_of_a_file_that_was_not_asked_for_is_never_taken_for_the_whole(fake_http, tmp_path):
    calls = []

    def server(query, headers):
        calls.append(headers.get("Range"))
        if len(calls) == 1:  # a broken cache in between answers a plain GET with a piece of the file
            return 206, "application/zip", BODY[:1000], None, {"Content-Range": f"bytes 0-999/{len(BODY)}"}
        return pub.StaticFile(BODY, "application/zip")(query, headers)

    server.wants_headers = True
    fake_http.route("/f.zip", server)
    dl, notes = downloader(tmp_path)
    assert dl.fetch(fake_http.url + "/f.zip", what="Test file").path.read_bytes() == BODY
    assert calls == [None, None] and "not asked for" in notes.attempts[0]
