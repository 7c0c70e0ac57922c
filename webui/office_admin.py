"""Counters and queues (admin): named counters and the queues feeding them, made from zones on any camera.

Every change goes through monitor.site.write_office (the camera pages' safe writer: comments kept,
load_config on the candidate before it replaces cameras.yaml), then the web app shows the new
office and the supervisor is nudged; a refused change is one line on the page and leaves the file
as it was. Each change is an audit row (config_change).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monitor.site import write_office
from monitor.site.base import check_slug
from monitor.site.config import Config
from monitor.site.office import Office, office_of
from monitor.site.write_office import CounterInput, QueueInput
from webui import audit
from webui.auth import role_required
from webui.cameras import Problem, apply_change
from webui.site import site_config

log = logging.getLogger(__name__)

bp = Blueprint("office", __name__)

NEW_QUEUE = "new:"  # the queue choice "a new queue in this waiting area" is NEW_QUEUE + "camera/zone"


def _office() -> Office:
    return office_of(site_config())


def zone_choices(config: Config, kind: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(camera name, [(camera/zone, zone id)]) of every zone of this kind, camera by camera."""
    out = []
    for cam in config.cameras:
        zones = [(f"{cam.id}/{z.id}", z.id) for z in cam.zones if z.kind == kind]
        if zones:
            out.append((cam.name, zones))
    return out


def _key(raw: str, what: str) -> tuple[str, str]:
    camera, sep, zone = raw.partition("/")
    if not sep or not camera or not zone:
        raise Problem(_("Choose the %(what)s.", what=what))
    return camera, zone


def _change(target: str, action: str, change: Callable[..., Config], *args: Any) -> Config:
    """Write one change; the 404 for an id that is not there, the audit row for one that was made."""
    try:
        new = apply_change(change, _office(), *args)
    except KeyError:
        raise Problem(_("There is no %(what)s.", what=target), 404) from None
    log.info("%s: %s", target, action)
    audit.record("config_change", target, action)
    return new


def _flash_dropped(before: Office, after: Config) -> None:
    """Say which queues went with the change (left feeding nothing), and when the office is derived again."""
    kept = {q.id for q in office_of(after).queues}
    for q in before.queues:
        if q.id not in kept and not before.derived:
            flash(_("Queue %(name)s fed no counter any more and was removed.", name=q.name))
    if after.counters is None and not before.derived:
        flash(_("No counters left: the counters are derived from the zones again."))


# ---------------------------------------------------------------- list


@bp.route("/site/counters")
@role_required("admin")
def index() -> str:
    return render_template("office/index.html", office=_office(), cameras={c.id: c.name for c in site_config().cameras})


# ---------------------------------------------------------------- counters


def _counter_form(values: dict[str, Any], new: bool, status: int = 200, error: str | None = None) -> tuple[str, int]:
    config = site_config()
    office = office_of(config)
    used = {a for q in office.queues for a in q.areas}
    areas = [(name, [(NEW_QUEUE + v, label) for v, label in zones if tuple(v.split("/", 1)) not in used])
             for name, zones in zone_choices(config, "waiting_area")]
    return render_template(
        "office/counter.html", values=values, new=new, error=error, queues=office.queues,
        seats=zone_choices(config, "staff_seat"), spots=zone_choices(config, "service_spot"),
        new_queue_areas=[(name, zones) for name, zones in areas if zones], fields=office.fields,
    ), status


def _counter_input(counter_id: str) -> CounterInput:
    form = request.form
    name = form.get("name", "").strip()
    if not name:
        raise Problem(_("Enter a name for the counter."))
    choice = form.get("queue", "")
    new_queue = None
    if choice.startswith(NEW_QUEUE):
        area = _key(choice[len(NEW_QUEUE):], _("waiting area"))
        new_queue = QueueInput(_free_queue_id(area), _area_name(area), [area], [counter_id])
    return CounterInput(id=counter_id, name=name, field=form.get("field", "").strip() or None,
                        seat=_key(form.get("seat", ""), _("staff seat")),
                        spot=_key(form.get("spot", ""), _("service spot")),
                        queue=None if new_queue else choice or None, new_queue=new_queue)


def _area_name(area: tuple[str, str]) -> str:
    cams = {c.id: c.name for c in site_config().cameras}
    return f"{cams.get(area[0], area[0])} · {area[1]}"


def _free_queue_id(area: tuple[str, str]) -> str:
    """camera-zone (cut to a slug), else q2, q3...: an id no queue has yet."""
    taken = {q.id for q in _office().queues}
    for candidate in [f"{area[0]}-{area[1]}"[:32]] + [f"q{n}" for n in range(2, 1000)]:
        try:
            check_slug(candidate)
        except ValueError:
            continue
        if candidate not in taken:
            return candidate
    raise Problem(_("No free queue id; name the queue on the queue page."))


@bp.route("/site/counters/new", methods=["GET", "POST"])
@role_required("admin")
def counter_new() -> Any:
    if request.method == "GET":
        return _counter_form({}, new=True)[0]
    values = request.form.to_dict()
    return _save_counter(values, values.get("id", "").strip(), True, _office())


@bp.route("/site/counters/<counter_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def counter_edit(counter_id: str) -> Any:
    before = _office()
    counter = before.counter(counter_id)
    if counter is None:
        abort(404)
    if request.method == "GET":
        values = {"id": counter.id, "name": counter.name, "field": counter.field or "", "seat": "/".join(counter.seat),
                  "spot": "/".join(counter.spot), "queue": counter.queue or ""}
        return _counter_form(values, new=False)[0]
    return _save_counter({**request.form.to_dict(), "id": counter_id}, counter_id, False, before)


def _save_counter(values: dict[str, str], counter_id: str, new: bool, before: Any) -> Any:
    """Save the posted counter (added or edited); the form again with the one-line problem, else the list."""
    try:
        saved = _change(f"counter {counter_id}", "added" if new else "edited", write_office.save_counter,
                        _counter_input(counter_id), new)
    except Problem as err:
        return _counter_form(values, new, err.status, str(err))
    _flash_dropped(before, saved)
    flash(_("Counter %(name)s saved.", name=values.get("name", "")))
    return redirect(url_for("office.index"))


@bp.route("/site/counters/<counter_id>/delete", methods=["GET", "POST"])
@role_required("admin")
def counter_delete(counter_id: str) -> Any:
    before = _office()
    counter = before.counter(counter_id)
    if counter is None:
        abort(404)
    if request.method == "GET":
        return render_template("office/delete.html", what="counter", item=counter, error=None)
    try:
        new = _change(f"counter {counter_id}", "deleted", write_office.remove_counter, counter_id)
    except Problem as err:
        return render_template("office/delete.html", what="counter", item=counter, error=str(err)), err.status
    _flash_dropped(before, new)
    flash(_("Counter %(name)s deleted.", name=counter.name))
    return redirect(url_for("office.index"))


# ---------------------------------------------------------------- queues


def _queue_form(values: dict[str, Any], new: bool, status: int = 200, error: str | None = None) -> tuple[str, int]:
    config = site_config()
    office = office_of(config)
    return render_template("office/queue.html", values=values, new=new, error=error,
                           areas=zone_choices(config, "waiting_area"), counters=office.counters,
                           fields=office.fields), status


def _queue_input(queue_id: str) -> QueueInput:
    name = request.form.get("name", "").strip()
    if not name:
        raise Problem(_("Enter a name for the queue."))
    areas = [_key(v, _("waiting area")) for v in request.form.getlist("areas")]
    if not areas:
        raise Problem(_("Choose at least one waiting area."))
    feeds = request.form.getlist("feeds")
    if not feeds:
        raise Problem(_("Choose the counters or fields this queue feeds."))
    return QueueInput(queue_id, name, areas, feeds)


def _queue_values() -> dict[str, Any]:
    return {"id": request.form.get("id", "").strip(), "name": request.form.get("name", ""),
            "areas": request.form.getlist("areas"), "feeds": request.form.getlist("feeds")}


@bp.route("/site/queues/new", methods=["GET", "POST"])
@role_required("admin")
def queue_new() -> Any:
    if request.method == "GET":
        return _queue_form({"areas": [], "feeds": []}, new=True)[0]
    values = _queue_values()
    try:
        _change(f"queue {values['id']}", "added", write_office.save_queue, _queue_input(values["id"]), True)
    except Problem as err:
        return _queue_form(values, True, err.status, str(err))
    flash(_("Queue %(name)s saved.", name=values["name"]))
    return redirect(url_for("office.index"))


def _queue_or_404(office: Office, queue_id: str) -> Any:
    queue = next((q for q in office.queues if q.id == queue_id), None)
    if queue is None:
        abort(404)
    return queue


@bp.route("/site/queues/<queue_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def queue_edit(queue_id: str) -> Any:
    office = _office()
    queue = _queue_or_404(office, queue_id)
    if request.method == "GET":
        spec = next((q for q in site_config().queues or [] if q.id == queue_id), None)
        feeds = list(spec.feeds) if spec is not None else list(queue.counters)
        values = {"id": queue.id, "name": queue.name, "areas": ["/".join(a) for a in queue.areas], "feeds": feeds}
        return _queue_form(values, new=False)[0]
    values = {**_queue_values(), "id": queue_id}
    try:
        _change(f"queue {queue_id}", "edited", write_office.save_queue, _queue_input(queue_id), False)
    except Problem as err:
        return _queue_form(values, False, err.status, str(err))
    flash(_("Queue %(name)s saved.", name=values["name"]))
    return redirect(url_for("office.index"))


@bp.route("/site/queues/<queue_id>/delete", methods=["GET", "POST"])
@role_required("admin")
def queue_delete(queue_id: str) -> Any:
    queue = _queue_or_404(_office(), queue_id)
    if request.method == "GET":
        return render_template("office/delete.html", what="queue", item=queue, error=None)
    try:
        _change(f"queue {queue_id}", "deleted", write_office.remove_queue, queue_id)
    except Problem as err:
        return render_template("office/delete.html", what="queue", item=queue, error=str(err)), err.status
    flash(_("Queue %(name)s deleted.", name=queue.name))
    return redirect(url_for("office.index"))
