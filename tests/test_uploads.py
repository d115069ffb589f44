"""The upload gate: size limit, kind by content, encodings, CSV reading and zip inspection."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.config import upload_limits
from geo.errors import (
    IncompleteShapefile, UnsafeArchive, UnsupportedUpload, UploadEncodingError, UploadRejected, UploadTooLarge,
)
from geo.upload.tables import formula_rows, is_formula_like
from geo.upload.gate import (
    TABLE_KINDS, VECTOR_KINDS, accept_file, accept_upload, display_name, read_table_upload, read_upload,
    read_vector_upload,
)
from tests.upload_fixtures import geojson_bytes, shapefile_zip, zip_bytes

CSV = b"code,name,value\nE01000001,Luton 001A,12.5\nE01000002,Luton 001B,-3\n"


def accept(workspace, data, kinds=TABLE_KINDS, name="upload.csv", **kw):
    return accept_upload(name, data, workspace=workspace, kinds=kinds, **kw)


# --- size ---------------------------------------------------------------------------------


def test_size_limit_names_the_file_and_the_limit(workspace):
    with pytest.raises(UploadTooLarge, match=r"big.csv: is 1.0 MB; the upload limit is 1,000 bytes") as err:
        accept_upload("big.csv", b"a" * 2**20, workspace=workspace, kinds={"csv"}, max_bytes=1000)
    assert "WARDSCOPE_MAX_UPLOAD_MB" in str(err.value)
    assert list(workspace.path.iterdir()) == []


class Endless(io.RawIOBase):
    """A stream that never ends; counts what was read from it."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def read(self, n=-1):
        n = 65536 if n is None or n < 0 else n
        self.read_bytes += n
        return b"a" * n


def test_oversized_stream_is_not_read_past_the_limit(workspace):
    stream = Endless()
    with pytest.raises(UploadTooLarge, match="more than that"):
        accept(workspace, stream, max_bytes=10 * 2**20)
    assert stream.read_bytes <= 10 * 2**20 + 1


def test_declared_size_is_refused_before_reading(workspace):
    class Uploaded(io.BytesIO):
        size = 60 * 2**20  # what Streamlit's UploadedFile reports

    data = Uploaded(b"code\n")
    with pytest.raises(UploadTooLarge, match="is 60.0 MB; the upload limit is 50 MB"):
        accept(workspace, data)
    assert data.tell() == 0


def test_default_limit_is_50_mb(workspace, monkeypatch):
    monkeypatch.delenv("WARDSCOPE_MAX_UPLOAD_MB", raising=False)
    with pytest.raises(UploadTooLarge, match="the upload limit is 50 MB"):
        accept(workspace, b"a" * (50 * 2**20 + 1))
    monkeypatch.setenv("WARDSCOPE_MAX_UPLOAD_MB", "1")
    with pytest.raises(UploadTooLarge, match="the upload limit is 1 MB"):
        accept(workspace, b"a" * (2**20 + 1))


def test_empty_file(workspace):
    with pytest.raises(UploadRejected, match="the file is empty"):
        accept(workspace, b" \n")


# --- kind by content ----------------------------------------------------------------------


def test_kind_comes_from_content_not_extension(workspace):
    upload = accept(workspace, geojson_bytes(), kinds=TABLE_KINDS | VECTOR_KINDS, name="sites.csv")
    assert upload.kind == "geojson"
    with pytest.raises(UnsupportedUpload, match="sites.csv: this is GeoJSON, not a CSV table"):
        accept(workspace, geojson_bytes(), name="sites.csv")
    upload = accept(workspace, CSV, kinds=TABLE_KINDS | VECTOR_KINDS, name="boundaries.geojson")
    assert upload.kind == "csv"


@pytest.mark.parametrize("data, what", [
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "a PNG image"),
    (b"%PDF-1.7\n" + bytes(64), "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "an old-style Office file"),
    (b"\x80\x04\x95\x10\x00\x00\x00", "a Python pickle (Wardscope never opens pickles)"),
    (zip_bytes({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<w/>"}), "an Excel workbook (.xlsx); save the sheet as 'CSV UTF-8"),
    (b"SQLite format 3\x00" + bytes(100), "an SQLite database but not a GeoPackage"),
])
def test_binary_files_are_named_for_what_they_are(workspace, data, what):
    with pytest.raises(UnsupportedUpload, match="sites.csv: this is " + what.replace("(", r"\(").replace(")", r"\)")):
        accept(workspace, data, name="sites.csv")


def test_kinds_must_be_known():
    with pytest.raises(ValueError, match="kinds must be"):
        accept_upload("a.csv", CSV, workspace=None, kinds={"xlsx"})


def test_stored_under_a_name_wardscope_chooses(workspace):
    upload = accept(workspace, CSV, name="../../etc/cron.d/evil\n.csv")
    assert upload.name == "evil.csv"
    assert upload.path.name == "upload.csv" and workspace.contains(upload.path)
    assert upload.path.parent.name == f"csv-{upload.sha256[:32]}"
    assert display_name("C:\\Users\\me\\Sites \u202e2025.csv") == "Sites 2025.csv"


def test_same_content_is_stored_once(workspace):
    a = accept(workspace, CSV, name="a.csv")
    b = accept(workspace, io.BytesIO(CSV), name="b.csv")
    assert a.path == b.path and a.sha256 == b.sha256 and b.name == "b.csv"


def test_accept_file_reads_a_local_path(workspace, tmp_path):
    src = tmp_path / "sites.csv"
    src.write_bytes(CSV)
    upload = accept_file(src, workspace=workspace, kinds=TABLE_KINDS)
    assert upload.name == "sites.csv" and src.read_bytes() == CSV and workspace.contains(upload.path)
    with pytest.raises(UploadRejected, match="file not found"):
        accept_file(tmp_path / "missing.csv", workspace=workspace, kinds=TABLE_KINDS)


# --- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoded, encoding", [
    ("code,name\nE01000001,Café £5\n".encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + "code,name\nE01000001,Café £5\n".encode("utf-8"), "utf-8-sig"),
    ("code,name\nE01000001,Café £5\n".encode("cp1252"), "cp1252"),
])
def test_csv_encodings_are_detected(workspace, encoded, encoding):
    upload = accept(workspace, encoded)
    assert upload.encoding == encoding
    frame = read_table_upload(upload)
    assert list(frame.columns) == ["code", "name"] and frame.loc[0, "name"] == "Café £5"


@pytest.mark.parametrize("data, message", [
    ("code\nE01\n".encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
    (b"code,name\nE01000001,\x81\x8d\x8f\x90\n", r"is not text in UTF-8 or Windows-1252 \(byte 0x81 at offset 20\)"),
    (b"code,name\nE01000001,abc\x00def\n", "contains binary data"),
    (b"\xef\xbb\xbfcode\n\xff\n", "starts with a UTF-8 byte-order mark but byte 0xff"),
    (bytes(b for b in range(128, 256) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)) * 8, "does not look like text"),
])
def test_other_encodings_are_refused_with_a_clear_message(workspace, data, message):
    with pytest.raises(UploadEncodingError, match="upload.csv: " + message):
        accept(workspace, data)
    assert list(workspace.path.iterdir()) == []


@pytest.mark.parametrize("data, lines", [
    ("code,name\nE01,Café\n".encode() + "E02,£5\n".encode("cp1252"), ("line 2 is UTF-8 ('é')", "line 3 is not (byte 0xa3")),
    ("code,name\nE01,£5\n".encode("cp1252") + "\nE02,Zoë\n".encode(), ("line 4 is UTF-8 ('ë')", "line 2 is not (byte 0xa3")),
    ("note\n".encode() + "“Smart” quotes from Word\n".encode("cp1252") + "and ‘more’ from the web\n".encode(),
     ("line 3 is UTF-8 ('‘')", "line 2 is not (byte 0x93, '“' in Windows-1252)")),
])
def test_mixed_utf8_and_windows_1252_is_refused_naming_both_lines(workspace, data, lines):
    """Read as Windows-1252, the UTF-8 line would be mojibake ('CafÃ©'); read as UTF-8 it fails."""
    with pytest.raises(UploadEncodingError, match="upload.csv: mixes UTF-8 and Windows-1252 text") as err:
        accept(workspace, data)
    assert all(part in str(err.value) for part in lines) and "CSV UTF-8" in str(err.value)
    assert list(workspace.path.iterdir()) == []


def test_utf8_bom_with_a_windows_1252_byte_names_its_line(workspace):
    with pytest.raises(UploadEncodingError, match=r"byte 0xa3 at offset 16 \(line 3\) is not UTF-8"):
        accept(workspace, b"\xef\xbb\xbfcode\nE01\nE02 \xa35\n")


# --- CSV reading --------------------------------------------------------------------------


def test_csv_cells_stay_text_and_blank_cells_are_missing(workspace):
    frame = read_table_upload(accept(workspace, b"code,value,note\nE01000001,007,\n\nE01000002,1e3,x\n"))
    assert frame["value"].tolist() == ["007", "1e3"]
    assert frame["note"].isna().tolist() == [True, False]
    assert frame.attrs["line_numbers"] == [2, 4]


@pytest.mark.parametrize("data, error, message", [
    (b"code,name\nE01000001,A\nE01000002\n", UploadRejected, "line 3 has 1 field but the header has 2 .truncated or malformed file"),
    (b"code,code\nE01000001,A\n", UploadRejected, "the column 'code' appears more than once"),
    (b"code,name\n", UploadRejected, "has a header but no rows"),
    (b'code,name\nE01000001,"unclosed\n', UploadRejected, "malformed CSV at line"),
    (b'code,name\nE01000001,"a"b\n', UploadRejected, "malformed CSV at line 2"),
])
def test_malformed_csv_names_the_line(workspace, data, error, message):
    with pytest.raises(error, match="upload.csv: " + message):
        read_table_upload(accept(workspace, data))


def test_csv_limits(workspace):
    small = dataclasses.replace(upload_limits(), max_rows=3, max_columns=4)
    with pytest.raises(UploadTooLarge, match="has more than 3 rows"):
        read_table_upload(accept(workspace, b"a\n1\n2\n3\n4\n"), limits=small)
    with pytest.raises(UploadTooLarge, match="has 5 columns; the limit is 4"):
        read_table_upload(accept(workspace, b"a,b,c,d,e\n1,2,3,4,5\n"), limits=small)
    with pytest.raises(UploadTooLarge, match="a cell is longer than 131,072 characters"):
        read_table_upload(accept(workspace, b'a,b\n1,"' + b"x" * 200_000 + b'"\n'))


def test_semicolons_and_trailing_empty_columns(workspace):
    frame = read_table_upload(accept(workspace, b"code;name;;\nE01000001;A;;\n"))
    assert list(frame.columns) == ["code", "name"] and frame.loc[0, "name"] == "A"


@pytest.mark.parametrize("text, cells", [
    # decimal commas: read as decimals, and a point separates thousands ('1.250' is 1250, '8,000' is 8.000)
    ("name;jobs;lat;lon\nA;1.250;51,88;-0,42\nB;8,000;52;-0,4\n",
     {"jobs": ["1250", "8.000"], "lat": ["51.88", "52"], "lon": ["-0.42", "-0.4"]}),
    ("name;jobs;lat\nA;1.234,5;51,880\n", {"jobs": ["1234.5"], "lat": ["51.880"]}),
    # no number that can only be a decimal comma: read as in the UK ('8,000' is 8000 to the loaders)
    ("name;jobs;lat;lon\nA;8,000;51.88;-0.42\n", {"jobs": ["8,000"], "lat": ["51.88"], "lon": ["-0.42"]}),
    ("name;jobs\nA;8,000\nB;1,250,000\n", {"jobs": ["8,000", "1,250,000"]}),
    # in a comma-separated file a decimal comma can only be quoted, and commas stay as they are
    ('name,jobs,lat\nA,"8,000",51.88\n', {"jobs": ["8,000"], "lat": ["51.88"]}),
])
def test_semicolon_files_with_decimal_commas(workspace, text, cells):
    frame = read_table_upload(accept(workspace, text.encode()))
    assert {c: frame[c].tolist() for c in cells} == cells


def test_decimal_commas_are_noted_only_when_read_so(workspace):
    read = read_table_upload(accept(workspace, b"name;lat\nA;51,88\nB;51,9\n"))
    assert read.attrs["warnings"] == ["upload.csv: is separated by semicolons and uses decimal commas, so numbers were "
                                      "read with the comma as the decimal point (line 2: '51,88' = 51.88; "
                                      "column 'lat')"]
    assert read_table_upload(accept(workspace, b"name;jobs\nA;8,000\n")).attrs["warnings"] == []


@pytest.mark.parametrize("text, message", [
    ("name;lat;lon\nA;51,88;-0.42\n", "mixes decimal commas (line 2, column 'lat': '51,88') and decimal points "
                                       "(line 2, column 'lon': '-0.42')"),
    ("name;lat\nA;51.9\n\nB;51,88\n", "mixes decimal commas (line 4, column 'lat': '51,88') and decimal points "
                                     "(line 2, column 'lat': '51.9')"),
])
def test_semicolon_file_mixing_decimal_commas_and_points_is_refused(workspace, text, message):
    with pytest.raises(UploadRejected) as err:
        read_table_upload(accept(workspace, text.encode()))
    assert str(err.value).startswith("upload.csv: ") and message in str(err.value)


def test_reader_matches_kind(workspace):
    with pytest.raises(UploadRejected, match="upload.csv: is a CSV table, not a boundary or site file"):
        read_vector_upload(accept(workspace, CSV))


# --- zip inspection -----------------------------------------------------------------------


def test_zipped_shapefile_parts_are_extracted_under_fixed_names(workspace):
    upload = accept(workspace, shapefile_zip(folder="export/"), kinds=VECTOR_KINDS, name="sites.zip")
    assert upload.kind == "zip-shapefile" and upload.path.name == "layer.shp"
    assert sorted(p.name for p in upload.path.parent.iterdir()) == [
        "layer.cpg", "layer.dbf", "layer.prj", "layer.shp", "layer.shx"]
    assert len(read_vector_upload(upload)) == 3


@pytest.mark.parametrize("drop, missing", [((".shx",), "sites.shx is missing"), ((".dbf", ".shx"), "sites.shx, sites.dbf are missing")])
def test_shapefile_needs_shp_shx_dbf(workspace, drop, missing):
    with pytest.raises(IncompleteShapefile, match=f"a shapefile needs .shp, .shx and .dbf files; {missing}"):
        accept(workspace, shapefile_zip(drop=drop), kinds=VECTOR_KINDS, name="sites.zip")
    assert list(workspace.path.iterdir()) == []


def test_zip_without_or_with_several_shapefiles(workspace):
    with pytest.raises(IncompleteShapefile, match=r"holds no shapefile \(.shp\); it contains notes.txt"):
        accept(workspace, zip_bytes({"notes.txt": b"hi"}), kinds=VECTOR_KINDS)
    two = shapefile_zip(extra={"b.shp": b"x", "b.shx": b"x", "b.dbf": b"x"})
    with pytest.raises(IncompleteShapefile, match="holds 2 shapefiles"):
        accept(workspace, two, kinds=VECTOR_KINDS)


def test_mac_resource_forks_are_ignored(workspace):
    data = shapefile_zip(extra={"__MACOSX/._sites.shp": b"junk", "._sites.dbf": b"junk"})
    assert accept(workspace, data, kinds=VECTOR_KINDS).kind == "zip-shapefile"


@pytest.mark.parametrize("folder", ["..sites/", ".backup/", "...", "a/..b/"])
def test_folders_starting_with_a_dot_are_folders_not_traversals(workspace, folder):
    folder = folder if folder.endswith("/") else folder + "/"
    upload = accept(workspace, shapefile_zip(folder=folder), kinds=VECTOR_KINDS, name="sites.zip")
    assert upload.member == f"{folder}sites.shp" and upload.path.name == "layer.shp"
    assert len(read_vector_upload(upload)) == 3


def test_a_second_shapefile_in_a_hidden_folder_is_not_ignored(workspace):
    data = shapefile_zip(extra={".backup/old.shp": b"x", ".backup/old.shx": b"x", ".backup/old.dbf": b"x"})
    with pytest.raises(IncompleteShapefile, match=r"holds 2 shapefiles \(sites.shp, .backup/old.shp\)"):
        accept(workspace, data, kinds=VECTOR_KINDS)


def test_zip_limits_members_and_total_size(workspace):
    limits = dataclasses.replace(upload_limits(), max_zip_members=5, max_zip_total_bytes=100_000)
    many = shapefile_zip(extra={f"readme{i}.txt": b"x" for i in range(6)})
    with pytest.raises(UnsafeArchive, match="holds 11 files; the limit is 5"):
        accept(workspace, many, kinds=VECTOR_KINDS, limits=limits)
    big = shapefile_zip(extra={"padding.txt": bytes(200_000)})
    limits = dataclasses.replace(limits, max_zip_members=100)
    with pytest.raises(UnsafeArchive, match=r"would expand to more than 0.1 MB \(a zip bomb\?\); refused, nothing was extracted"):
        accept(workspace, big, kinds=VECTOR_KINDS, limits=limits)


def test_unusual_compression_method_is_refused(workspace):
    data = zip_bytes({"sites.shp": b"x", "sites.shx": b"x", "sites.dbf": b"x"}, method=zipfile.ZIP_BZIP2)
    with pytest.raises(UnsafeArchive, match="uses compression method 12; re-zip it"):
        accept(workspace, data, kinds=VECTOR_KINDS)


def test_damaged_zip_is_refused(workspace):
    data = shapefile_zip()
    with pytest.raises(UploadRejected, match="looks like a zip archive but cannot be opened"):
        accept(workspace, data[: len(data) // 2], kinds=VECTOR_KINDS)
    flipped = bytearray(data)
    start = data.index(b"PK\x03\x04") + 30 + len("sites.cpg") + 1  # inside the first member's data
    flipped[start] ^= 0xFF
    with pytest.raises(UploadRejected, match="damaged"):
        accept(workspace, bytes(flipped), kinds=VECTOR_KINDS)
    assert [p.name for p in workspace.path.rglob("*")] == []


def test_read_upload_dispatches_on_kind(workspace):
    assert list(read_upload(accept(workspace, CSV)).columns) == ["code", "name", "value"]
    profile = accept(workspace, b"name: Growth\nweights: {imd: 1}\n", kinds={"yaml"}, name="p.yaml")
    assert read_upload(profile) == {"name": "Growth", "weights": {"imd": 1}}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["-5", "+4.5e3", "=A1", "-", "1,000%", " -2"])),
                max_size=20))
def test_vectorised_formula_check_agrees_with_the_cell_rule(values):
    column = pd.Series(values, dtype="str")
    assert formula_rows(column) == [i for i, v in enumerate(values) if is_formula_like(v)]


def test_streamlit_uploaded_file_goes_through_the_gate(workspace):
    """What st.file_uploader returns (an UploadedFile, a BytesIO with .name/.size) works as ``data``."""
    from streamlit.proto.Common_pb2 import FileURLs
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    uploaded = UploadedFile(UploadedFileRec("id1", "sites.csv", "text/csv", CSV), FileURLs())
    uploaded.read(5)  # a page may already have peeked at it
    upload = accept_upload(uploaded.name, uploaded, workspace=workspace, kinds=TABLE_KINDS)
    assert upload.size == len(CSV) and read_table_upload(upload)["code"].tolist() == ["E01000001", "E01000002"]
    big = UploadedFile(UploadedFileRec("id2", "big.csv", "text/csv", b"a" * 2000), FileURLs())
    with pytest.raises(UploadTooLarge, match="big.csv: is 2,000 bytes; the upload limit is 1,000 bytes"):
        accept_upload(big.name, big, workspace=workspace, kinds=TABLE_KINDS, max_bytes=1000)
