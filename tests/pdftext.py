"""Text of the PDFs Wardscope writes (fpdf2, embedded TrueType fonts), page by page, for tests.

No PDF reader is installed in the venv (pypdf is not a requirement), so this
reads fpdf2's own output: objects, Flate streams, each font's ToUnicode
CMap, and the ``Tj``/``TJ`` strings of each page (one line per text block).
It is not a general PDF parser.
"""

from __future__ import annotations

import re
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in _OBJ.finditer(data)}


def _stream(obj: bytes) -> bytes:
    raw = _STREAM.search(obj).group(1)
    return zlib.decompress(raw) if b"/FlateDecode" in obj.split(b"stream")[0] else raw


def _ref(obj: bytes, key: bytes) -> int:
    return int(re.search(rb"/" + key + rb"\s+(\d+) 0 R", obj).group(1))


def _cmap(text: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(start + i)
    return out


def _literal(content: bytes, i: int) -> tuple[bytes, int]:
    """The literal string starting at ``content[i] == '('``, unescaped, and the index after it."""
    out, depth, i = bytearray(), 1, i + 1
    while True:
        c = content[i]
        if c == 0x5C:  # backslash
            n = content[i + 1]
            if n in _ESCAPES:
                out.append(_ESCAPES[n])
                i += 2
            elif 0x30 <= n <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", content[i + 1:i + 4]).group(0)
                out.append(int(digits, 8) & 0xFF)
                i += 1 + len(digits)
            elif n in (0x0A, 0x0D):
                i += 2
            else:
                out.append(n)
                i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1


def _page_text(content: bytes, fonts: dict[str, dict[int, str]]) -> str:
    lines, current, font = [], [], {}
    i = 0
    token = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(|\bBT\b|\bET\b")
    while True:
        m = token.search(content, i)
        if not m:
            break
        if m.group(0) == b"(":
            raw, i = _literal(content, m.start())
            current.append("".join(font.get(int.from_bytes(raw[k:k + 2], "big"), "?") for k in range(0, len(raw) - 1, 2)))
            continue
        if m.group(1):
            font = fonts.get(m.group(1).decode(), {})
        elif m.group(0) == b"ET" and current:
            lines.append("".join(current))
            current = []
        i = m.end()
    return "\n".join(lines)


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of an fpdf2 PDF, in page order (text blocks joined by line breaks)."""
    objs = _objects(data)
    root = next(o for o in objs.values() if b"/Type /Pages" in o)
    kids = [int(k) for k in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[(.*?)\]", root, re.S).group(1))]
    cmaps: dict[int, dict[int, str]] = {}
    pages = []
    for kid in kids:
        page = objs[kid]
        resources = objs[_ref(page, b"Resources")]
        fonts = {}
        for name, num in re.findall(rb"/(F\d+)\s+(\d+) 0 R", resources):
            num = int(num)
            if num not in cmaps:
                cmaps[num] = _cmap(_stream(objs[_ref(objs[num], b"ToUnicode")]))
            fonts[name.decode()] = cmaps[num]
        pages.append(_page_text(_stream(objs[_ref(page, b"Contents")]), fonts))
    return pages


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces (for sentences that wrap)."""
    return re.sub(r"\s+", " ", text).strip()
