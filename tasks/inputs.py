"""Inputs that requests carry by content, so equal requests mean equal inputs (and cache keys are content).

A sites list is the CSV text of :func:`geo.employment_sites.sites_table` (BNG and WGS84
coordinates, every column carried); a profile is its YAML text
(:func:`layers.profiles.profile_yaml`); an area of interest is a
:class:`geo.areas.Area` (name and district codes).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

from geo.areas import Area, resolve_area
from geo.employment_sites import read_sites, sample_sites, sites_from_frame, sites_table
from layers.profiles import Profile, load_profile, parse_profile_text, profile_yaml


@dataclass(frozen=True)
class SitesInput:
    """A sites list by content: ``csv`` (:func:`geo.employment_sites.sites_table` as CSV) and the name it came from.

    ``row_label``/``first_row`` say how its rows are named in messages (a CSV's row 2 is its first site;
    a GeoJSON's features count from 1).
    """

    csv: str
    source: str = "sites"
    row_label: str = "row"
    first_row: int = 2

    @classmethod
    def from_layer(cls, sites, source: str | None = None) -> "SitesInput":
        """From a sites layer (points, EPSG:27700), e.g. an upload read through the gate."""
        return cls(sites_table(sites).to_csv(index=False), source or sites.attrs.get("source", "sites"))

    @classmethod
    def from_file(cls, path: str, store=None) -> "SitesInput":
        """From a sites file named on the command line, or ``sample`` (the store's sample sites)."""
        if path == "sample":
            return cls.from_layer(sample_sites(store))
        geojson = str(path).lower().endswith((".geojson", ".json"))
        return cls(sites_table(read_sites(path)).to_csv(index=False), str(path),
                   "feature" if geojson else "row", 1 if geojson else 2)

    def layer(self):
        """The sites as points in EPSG:27700 (the layer :meth:`from_layer` was given)."""
        frame = pd.read_csv(io.StringIO(self.csv), dtype=str, keep_default_na=False)
        sites = sites_from_frame(frame, source=self.source)
        sites.attrs["source"] = self.source
        return sites


def profile_text(profile: str | Profile) -> str:
    """A profile (a shipped name, a YAML path or a :class:`Profile`) as its YAML text."""
    return profile_yaml(profile if isinstance(profile, Profile) else load_profile(profile))


def profile_of(text: str) -> Profile:
    """The :class:`Profile` a request's YAML text describes."""
    return parse_profile_text(text, "profile")


def area_of(name_or_code: str, store) -> Area:
    """An area of interest by name or code (:func:`geo.areas.resolve_area`)."""
    return resolve_area(name_or_code, store.districts())
