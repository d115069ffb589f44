"""Names that try to become markup or script wherever Wardscope shows them (see geo/escape.py).

Each would run, break a page or change what it says if written unescaped:
a JavaScript template literal (``${...}``, backtick, backslash), HTML
(``<img onerror>``, ``</script>``, quotes), branca's Jinja pass over map
scripts (``{{ ... }}`` runs on the server), Streamlit markdown, matplotlib
mathtext and plain-text lines.
"""

#: What the brief for issue 12 names, and the contexts found since.
HOSTILE = [
    "${alert(1)}",
    "back`tick`(alert(1))",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "\"'& quotes",
    "{{ 7*7 }} {% if 1 %}jinja{% endif %} {# c #}",
    "back\\slash \\u0041 \\`${alert(1)}",
    "<!--<script>alert(1)//",
    "**bold** [link](javascript:alert(1)) ![i](http://x/i.png) :red[red] $x^2$ # h",
    "$\\frac{$ maths",
]

#: Line breaks and bidirectional overrides: plain-text contexts only (a site name cannot hold a line break).
HOSTILE_LINES = ["one\ntwo", "cr\rlf", "tab\there", "right\u202eto left\u2066isolate\u2069", "next\u2028line"]
