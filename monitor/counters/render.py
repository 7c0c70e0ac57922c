"""A built report as CSV (Excel), JSON or a standalone HTML page, in Vietnamese or English.

The HTML is the Jinja template templates/report.html; its strings and the CSV headers are messages
of the project's one Babel catalogue (webui/translations), so the CLI renders the same words as the
web app without Flask.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from monitor.counters.charts import absence_per_counter, bars, hbars, lines, queue_per_hour, served_per_hour, wait_histogram
from monitor.counters.rows import Report, ReportRow

Format = Literal["csv", "json", "html"]
Language = Literal["vi", "en"]

LANGUAGES: tuple[str, ...] = ("vi", "en")  # English is the catalogue's source language
TEMPLATES = Path(__file__).with_name("templates")
# The catalogue is data, not code: reading it does not make monitor import the web package.
CATALOGUE = Path(__file__).resolve().parents[2] / "webui" / "translations"
UTF8_BOM = b"\xef\xbb\xbf"  # without it Excel reads the CSV as ANSI and mangles the Vietnamese diacritics


def N_(message: str) -> str:
    """Mark a string for the catalogue (pybabel extract finds N_); it is translated where it is shown."""
    return message


# (row field, header): the column order of the CSV and the HTML tables.
COLUMNS: list[tuple[str, str]] = [
    ("day", N_("Date")),
    ("hour", N_("Hour")),
    ("camera", N_("Camera")),
    ("counter", N_("Counter")),
    ("served", N_("Served")),
    ("mean_service_s", N_("Mean service time (s)")),
    ("median_service_s", N_("Median service time (s)")),
    ("p90_service_s", N_("P90 service time (s)")),
    ("mean_wait_s", N_("Mean wait (s)")),
    ("max_wait_s", N_("Max wait (s)")),
    ("mean_queue", N_("Mean queue (people)")),
    ("max_queue", N_("Max queue (people)")),
    ("absence_min", N_("Absence (min)")),
    ("utilisation", N_("Utilisation (%)")),
]
CHART_CAPTIONS = (
    N_("Citizens served per hour"), N_("Mean queue per hour (people)"),
    N_("Waiting-time distribution (minutes, citizens)"), N_("Staff absence per counter (min)"),
)


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """The catalogue of a language (English: the messages themselves)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    if language == "en":
        return NullTranslations()
    return Translations.load(str(CATALOGUE), [language], domain="messages")


@lru_cache(maxsize=None)
def environment(language: str) -> Environment:
    """The Jinja environment of the standalone reports in a language (autoescaped, the catalogue installed)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


@lru_cache(maxsize=1)
def report_css() -> str:
    """The one inline stylesheet of the standalone HTML report (the web app allows it by hash)."""
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def headers(language: Language) -> list[str]:
    """The column headers of the CSV and HTML tables in a language."""
    gettext = translations(language).gettext
    return [gettext(header) for _, header in COLUMNS]


def _fmt_day(d: date, language: Language) -> str:
    return d.strftime("%d/%m/%Y") if language == "vi" else d.isoformat()


def cells(row: ReportRow, language: Language) -> list[str]:
    """Display values: whole seconds and minutes, one decimal for queues, percent for utilisation.

    Only the queue has a decimal point: a Vietnamese-locale Excel reads '.' as a thousands
    separator, so every other figure is a whole number.
    """

    def whole(v: float | None) -> str:
        return "" if v is None else str(int(round(v)))

    return [
        _fmt_day(row.day, language),
        "" if row.hour is None else f"{row.hour:02d}:00",
        row.camera,
        row.counter,
        str(row.served),
        whole(row.mean_service_s),
        whole(row.median_service_s),
        whole(row.p90_service_s),
        whole(row.mean_wait_s),
        whole(row.max_wait_s),
        f"{row.mean_queue:.1f}",
        whole(row.max_queue),
        whole(row.absence_min),
        whole(row.utilisation * 100),
    ]


def render_report(report: Report, fmt: Format, language: Language) -> bytes:
    """The report as CSV (UTF-8 with BOM, for Excel), JSON (English keys) or a standalone HTML page."""
    translations(language)  # an unknown language is refused whatever the format
    if fmt == "csv":
        return _csv(report, language)
    if fmt == "json":
        return _json(report)
    if fmt == "html":
        return _html(report, language).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r} (known: csv, json, html)")


def _csv(report: Report, language: Language) -> bytes:
    buf = io.StringIO(newline="")
    out = csv.writer(buf)  # comma separator, CRLF line endings, quoting only where needed
    out.writerow(headers(language))
    out.writerows(cells(r, language) for r in report.rows)
    return UTF8_BOM + buf.getvalue().encode("utf-8")


def _json(report: Report) -> bytes:
    rows = []
    for r in report.rows:
        d = asdict(r)
        del d["waits"]
        d["day"] = r.day.isoformat()
        rows.append(d)
    doc = {
        "site": report.site,
        "date_from": report.date_from.isoformat(),
        "date_to": report.date_to.isoformat(),
        "camera": report.camera,
        "generated_at": report.generated_at.isoformat(),
        "rows": rows,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def _html(report: Report, language: Language) -> str:
    gettext = translations(language).gettext
    period = _fmt_day(report.date_from, language)
    if report.date_to != report.date_from:
        period += " – " + _fmt_day(report.date_to, language)
    days = [r for r in report.rows if r.hour is None]
    hours = [r for r in report.rows if r.hour is not None]
    svgs = (bars(served_per_hour(hours)), lines(queue_per_hour(hours)),
            bars(wait_histogram([w for r in days for w in r.waits])), hbars(absence_per_counter(days)))
    return environment(language).get_template("report.html").render(
        language=language, report=report, period=period, css=Markup(report_css()),
        generated=report.generated_at.strftime("%d/%m/%Y %H:%M" if language == "vi" else "%Y-%m-%d %H:%M"),
        charts=[(gettext(c), Markup(svg)) for c, svg in zip(CHART_CAPTIONS, svgs)],  # charts.py escapes its text
        headers=headers(language),
        tables=[(gettext("By day"), [cells(r, language) for r in days]),
                (gettext("By hour"), [cells(r, language) for r in hours])],
    )
