"""Escaping for every place a user's or a file's text is shown: one function per output context.

Names, types and notes of sites and hubs, indicator labels, profile and area
names and file names come from users. Each is escaped where it is written
into a page or file, for the context it lands in; input is never filtered.

=====================  ======================================================
Context                Function
=====================  ======================================================
HTML text              :func:`html_text` (report_html, the app's legend)
HTML attribute value   :func:`html_attr` (always inside double quotes)
HTML inside a JS       :func:`js_template_html` (folium ``Tooltip``/``Popup``
template literal       text: folium writes it between backticks in a script)
JS value or string     :func:`js_json` (data embedded in a ``<script>``)
in a script
Streamlit markdown     :func:`md_text` (st.markdown, st.caption, st.title,
                       widget labels: anything that renders markdown)
Plain-text line        :func:`plain_line` (README.txt, one line per item)
Matplotlib label       :func:`mpl_text` (chart titles, ticks, legends)
=====================  ======================================================

folium and branca add one trap: the script of every map element is read
again as a Jinja template when the map is rendered, so ``{{ ... }}`` in a
tooltip would run on the server. :func:`js_template_html` and
:func:`js_json` never emit ``{{``, ``{%`` or ``{#``.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata

#: Characters that are safe in HTML but not between backticks in a script or in a Jinja template.
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;", "\\": "&#92;"})
#: Characters only ever inside strings in JSON: escaped so the text cannot end the script or start a comment.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})
#: A brace that starts a Jinja delimiter. In compact JSON a structural "{" is followed by '"' or "}".
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")
#: Markdown, Streamlit's directives (:red[...], :material/...:) and LaTeX ($) all start with ASCII punctuation.
_MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: Where remark-gfm's autolink finder would start a link: after "scheme:", after "www", before "@".
_AUTOLINK = re.compile(r"(?i)(?<=[a-z]:)(?=//)|(?<=www)(?=\.)|(?<=[-.+\w])(?=@)")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def html_text(value) -> str:
    """``value`` as text between HTML tags: ``& < > " '`` become entities."""
    return html.escape(str(value), quote=True)


def html_attr(value) -> str:
    """``value`` for a double-quoted HTML attribute (``title="..."``, ``style="..."``); never unquoted."""
    return html_text(value).replace("`", "&#96;")


def js_template_html(value) -> str:
    """``value`` as HTML text that folium places between backticks in a ``<script>``.

    HTML-escaped, and the backtick, ``$``, braces and backslash become numeric
    entities: the template literal cannot end or interpolate (``${...}``),
    branca's Jinja pass finds no delimiter, and Leaflet's innerHTML shows the
    characters as typed.
    """
    return html_text(value).translate(_TEMPLATE_LITERAL)


def js_json(value) -> str:
    """``value`` as a JavaScript expression (JSON) to embed in a ``<script>``: a str gives a string literal.

    ``< > &`` and the line separators are ``\\uXXXX`` escapes (no ``</script>``
    or ``<!--`` can appear), and a brace opening a Jinja delimiter inside a
    string is ``\\u007b``. JSON's own escaping handles quotes and backslashes.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return _JINJA_OPEN.sub(r"\\u007b", text.translate(_SCRIPT_SAFE))


def md_text(value) -> str:
    """``value`` for Streamlit markdown, shown as typed.

    Every ASCII punctuation character is backslash-escaped (CommonMark allows
    it for all of them), so no emphasis, code, link, image, heading, list,
    ``:color[...]`` directive or ``$`` maths starts; line breaks become spaces.
    Streamlit already shows raw HTML in markdown as text. Its typography step
    still draws ``<-``, ``->`` and ``--`` as arrows and a dash (it runs after
    escapes are read). GitHub-style autolinks are also found after escapes are
    read, so a bare ``https://``, ``www.`` or ``name@host`` would still become a
    link: an invisible word joiner (U+2060) is put before the ``//``, the ``.``
    or the ``@``; nothing else changes.
    """
    one_line = _AUTOLINK.sub("\u2060", " ".join(str(value).splitlines()))
    return _MD_PUNCTUATION.sub(r"\\\1", one_line)


def plain_line(value) -> str:
    """``value`` on one line of a plain-text file: control and bidirectional characters written as ``\\n``/``\\u202e``.

    A name cannot start a new line (and so forge a line of README.txt) or
    reorder the text around it when displayed.
    """
    out = []
    for ch in str(value):
        if ch in _NAMED_CONTROLS:
            out.append(_NAMED_CONTROLS[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in "\u00ad\u200c\u200d":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def mpl_text(value) -> str:
    """``value`` for a matplotlib title, tick label or legend entry: ``$`` is escaped so no mathtext is parsed."""
    return str(value).replace("$", r"\$")
