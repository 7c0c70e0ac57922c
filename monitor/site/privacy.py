"""The optional `privacy:` section of cameras.yaml: what the recording notice on the office door says.

Decree 13/2023/NĐ-CP Art. 18 lets a public office record without asking consent, but the people
recorded must be told; the notice (web page /notice, printable) is filled from here, from the site
name and from the retention settings. See docs/privacy.md.
"""

from __future__ import annotations

from pydantic import Field

from monitor.site.base import StrictModel

DEFAULT_PURPOSE_VI = ("Giám sát chất lượng phục vụ tại Bộ phận một cửa: thời gian chờ, việc bố trí cán bộ tại quầy, "
                      "và làm chứng cứ khi giải quyết phản ánh, kiến nghị của công dân.")
DEFAULT_PURPOSE_EN = ("Monitoring the quality of service at the one-stop counters (waiting times, counter staffing) "
                      "and keeping evidence to handle citizens' complaints.")


class Purpose(StrictModel):
    """The purpose of the recording, in both notice languages."""

    vi: str = Field(DEFAULT_PURPOSE_VI, min_length=1, max_length=500, description="Purpose in Vietnamese.")
    en: str = Field(DEFAULT_PURPOSE_EN, min_length=1, max_length=500, description="Purpose in English.")


class Privacy(StrictModel):
    """Who records, why, and whom to ask: printed on the recording notice."""

    controller: str | None = Field(
        None, max_length=200, description="The body responsible for the recordings (e.g. UBND phường ...). Empty: the site name.")
    contact: str | None = Field(
        None, max_length=300, description="Where people ask about or request their recordings: office, phone, e-mail.")
    purpose: Purpose = Field(default_factory=Purpose, description="Why the office records (vi and en).")
