"""Credits the data's licences require, and what this installation has not installed."""

from __future__ import annotations

import streamlit as st

from app_pages import cache

ONS_CREDIT = ("Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
              "Contains OS data © Crown copyright and database right 2024.")
MHCLG_CREDIT = ("Contains public sector information licensed under the Open Government Licence v3.0 "
                "(MHCLG, English Indices of Deprivation 2019 and 2025).")


def admin_pointer(many: bool = False) -> str:
    """Where the app sends users for data only whoever runs Wardscope can add (the About page keeps the commands)."""
    return f"whoever runs Wardscope can add {'them' if many else 'it'} (see *About and sources*)"


def credits() -> None:
    st.caption(f"{ONS_CREDIT} {MHCLG_CREDIT} Base map © OpenStreetMap contributors © CARTO. "
               "Railway stations © uk-railway-stations and Trainline EU, ODbL 1.0. See *About and sources*.")


def not_installed_notice() -> None:
    """A sidebar note naming the layers this server has not installed (the About page says how to add them)."""
    missing = cache.not_installed(cache.get_store().generation)
    if missing.empty:
        return
    groups = sorted({lab.split(" (")[0].split(",")[0].strip() for lab in missing["source"].str.split(":").str[-1]})
    st.sidebar.caption(f"Not installed on this server: {'; '.join(groups)} ({len(missing)} indicators); "
                       f"{admin_pointer(many=True)}.")
