"""Fields (lĩnh vực) at the hub: their display names as the sites publish them, and the weekly ranking of
the sites within each field.

A site's info message lists its fields' names (vi, en). A site's pages use that site's own names; the
district's tables use, for each field id, the names of the newest info message (site time `at`) that
named it, a tie going to the site first in id order. A field no site names is shown by its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlite_utils

from monitor.hub.stats import WAIT_TARGET_S, Figures, period_figures, rank_order

Names = tuple[str, str]  # (vi, en)


@dataclass(frozen=True)
class FieldNames:
    """The names every site gave its fields, and the district's choice among them."""

    district: dict[str, Names]
    per_site: dict[str, dict[str, Names]]

    def label(self, field: str | None, lang: str, site: str = "") -> str:
        """A field's name in lang (vi or en): the site's own, else the district's, else the id ("" for None)."""
        if field is None:
            return ""
        names = self.per_site.get(site, {}).get(field) or self.district.get(field)
        if names is None:
            return field
        return names[1] if lang == "en" else names[0]


def field_names(db: sqlite_utils.Database) -> FieldNames:
    """Every site's field names from the hub database; the newest naming of each field is the district's."""
    district: dict[str, Names] = {}
    per_site: dict[str, dict[str, Names]] = {}
    rows = db.execute("select site, field, name, coalesce(name_en, name) from site_fields"
                      " order by at, site desc").fetchall()
    for site, field, name, name_en in rows:  # the later row wins: newest at, then the first site id on a tie
        district[field] = per_site.setdefault(site, {})[field] = (name, name_en)
    return FieldNames(district, per_site)


def field_ranking(db: sqlite_utils.Database, day_from: date, day_to: date,
                  target_s: float = WAIT_TARGET_S) -> list[tuple[str, list[Figures]]]:
    """Per field (by id), the sites with counters in it over the period, ranked as the sites' ranking is
    (shortest mean wait first); counters without a field are left out."""
    groups: dict[str, list[Figures]] = {}
    for f in period_figures(db, None, day_from, day_to, target_s, by="field"):
        if f.field is not None:
            groups.setdefault(f.field, []).append(f)
    return [(field, rank_order(groups[field])) for field in sorted(groups)]
