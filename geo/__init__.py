"""Geometry and geography for Wardscope.

Everything here is plain Python (no Streamlit). Geometry is stored and
analysed in British National Grid (EPSG:27700); EPSG:4326 is produced only
for web maps and GeoJSON output.
"""

__version__ = "0.1.0"
