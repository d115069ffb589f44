"""Indicator layers and the layers derived from them (scores, access, coverage).

Plain Python: no Streamlit. Tables are keyed by ONS GSS code.
"""

from pathlib import Path

from geo.sources import add_catalogue

#: The indicator datasets (Census, IoD, Nomis) join geo's catalogue of boundary datasets.
SOURCES = Path(__file__).with_name("sources.yaml")
add_catalogue(SOURCES)
