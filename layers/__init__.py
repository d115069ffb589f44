"""Indicator layers and the layers derived from them (scores, access, coverage).

Plain Python: no Streamlit. Tables are keyed by ONS GSS code.
"""
