"""Mean waits against a waiting count that falls short, as it does in full halls: synthetic per-second samples
through the counter analytics of `onestop analyze` (monitor.counters.analyze.summarise).

Usage: python benchmarks/full_hall_waits.py [--counters 4] [--waiting 14] [--hidden 0 0.006 0.012 0.02]
                                            [--spell-s 15] [--seeds 10] [--minutes 20]

The held-out offices of issue 12 hold up to 14 people waiting on average, and the detector's count falls short
the fuller the hall (people hidden behind others). No video here: a queue is simulated second by second and
the analytics get what a detector would give them:
- `--counters` counters serve first come, first served; services last 2-5 minutes; a citizen walks into the
  hall (6 s) and, when called, to the counter (8 s); `--waiting` people wait when the video begins (their
  waits are lower bounds and left out, as in `analyze`) and newcomers arrive at the counters' service rate;
- the staff seats are occupied throughout and the service spots exactly while someone is served;
- the walking count is exact; the waiting count misses each waiting person in spells of about `--spell-s`
  seconds, for a share of the time of `hidden` x (people waiting), at most 0.35: fuller halls hide more.
For each `hidden` it prints the people waiting, those the count saw, and the mean wait's relative error
against the truth's (arrivals and service starts both in the video): its mean and worst over the seeds.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from monitor.counters.analyze import summarise
from monitor.detect.walkers import WALKING_ZONE
from monitor.site.config import Camera, load_config

WALK_IN_S, WALK_TO_S = 6, 8  # into the hall; from the chairs to the counter once called
SERVICE_S = (120.0, 300.0)
MAX_HIDDEN = 0.35


def camera(counters: int) -> Camera:
    """A camera with `counters` staff seats and service spots and a waiting area (the places do not matter here)."""
    zones = []
    for k in range(1, counters + 1):
        x = 0.1 + 0.2 * (k - 1)
        for kind, y in (("staff_seat", 0.2), ("service_spot", 0.3)):
            pts = [[x, y], [x + 0.1, y], [x + 0.1, y + 0.05], [x, y + 0.05]]
            zones.append({"id": f"c{k}_{kind}", "kind": kind, "points": pts})
    zones.append({"id": "waiting", "kind": "waiting_area", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]],
                  "person_height": [0.3, 0.2]})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cameras.yaml"
        path.write_text(yaml.safe_dump({"site": {"name": "full hall"}, "cameras": [
            {"id": "hall", "name": "hall", "streams": {"main": "hall.mp4"}, "zones": zones}]}), encoding="utf-8")
        return load_config(path).cameras[0]


def one_run(cam: Camera, counters: int, waiting: int, hidden: float, spell_s: float, seconds: int,
            seed: int) -> tuple[float, float, float]:
    """(people waiting on average, people the count saw on average, the mean wait's relative error; NaN when
    no citizen both arrived and was served in the video)."""
    rng = np.random.default_rng(seed)
    mean_service = sum(SERVICE_S) / 2
    arrivals = list(np.sort(-rng.uniform(30, 900, waiting)))
    t = 0.0
    while (t := t + rng.exponential(mean_service / counters)) < seconds:
        arrivals.append(t)
    being_served = rng.uniform(5, SERVICE_S[1], counters)  # when the citizens at the counters at 0 s are done
    free = [e + rng.uniform(3, 12) for e in being_served]
    people = []  # (arrival, called, service start, service end, counter)
    for a in arrivals:
        k = int(np.argmin(free))
        called = max(free[k], a + WALK_IN_S)
        start = called + WALK_TO_S
        end = start + rng.uniform(*SERVICE_S)
        free[k] = end + rng.uniform(3, 12)
        people.append((a, called, start, end, k))
    waiting_n, walking = np.zeros(seconds), np.zeros(seconds)
    spot = np.zeros((counters, seconds), bool)
    for k in range(counters):
        spot[k, :int(being_served[k])] = True

    def span(lo: float, hi: float) -> slice:
        """The whole seconds from lo to hi inside the video (empty when none)."""
        first = max(0, int(np.ceil(lo)))
        return slice(first, max(first, min(seconds, int(np.ceil(hi)))))

    for a, called, start, end, k in people:
        waiting_n[span(a + WALK_IN_S, called)] += 1
        walking[span(a, a + WALK_IN_S)] += 1
        walking[span(called, start)] += 1
        spot[k, span(start, end)] = True
    seen = np.zeros(seconds)
    for a, called, _, _, _ in people:
        s = span(a + WALK_IN_S, called)
        off = 1.0 / spell_s
        hid = False
        for i in range(s.start, s.stop):
            p = min(MAX_HIDDEN, hidden * waiting_n[i])
            hid = rng.random() > off if hid else rng.random() < p / (1 - p) * off
            seen[i] += not hid
    spots = [z.id for z in cam.zones if z.kind == "service_spot"]
    seats = [z.id for z in cam.zones if z.kind == "staff_seat"]
    per_second = []
    for i in range(seconds):
        zones = {z: {"occupied": True, "count": 1.0} for z in seats}
        zones |= {z: {"occupied": bool(spot[k, i]), "count": float(spot[k, i])} for k, z in enumerate(spots)}
        zones["waiting"] = {"occupied": bool(seen[i]), "count": float(seen[i])}
        zones[WALKING_ZONE] = {"occupied": bool(walking[i]), "count": float(walking[i])}
        per_second.append({"t": i, "zones": zones})
    true = [start - a for a, _, start, _, _ in people if a >= 0 and start < seconds]
    if not true:
        return float(waiting_n.mean()), float(seen.mean()), math.nan
    found = summarise(cam, per_second, float(seconds))["waiting"]["mean_wait_s"]
    return float(waiting_n.mean()), float(seen.mean()), (found - float(np.mean(true))) / float(np.mean(true))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counters", type=int, default=4)
    ap.add_argument("--waiting", type=int, default=14, help="People waiting when the video begins.")
    ap.add_argument("--hidden", type=float, nargs="+", default=[0.0, 0.006, 0.012, 0.02],
                    help="Share of the time a waiting person is hidden from the count, per person waiting.")
    ap.add_argument("--spell-s", type=float, default=15.0, help="Mean length of a hidden spell (s).")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=20.0)
    args = ap.parse_args(argv)
    bad = [f"--counters {args.counters}"] * (args.counters < 1) + [f"--seeds {args.seeds}"] * (args.seeds < 1)
    bad += [f"--waiting {args.waiting}"] * (args.waiting < 0) + [f"--spell-s {args.spell_s}"] * (args.spell_s < 1)
    bad += [f"--hidden {h}" for h in args.hidden if not 0 <= h < 1] + [f"--minutes {args.minutes}"] * (args.minutes < 1)
    if bad:
        print(f"error: {', '.join(bad)}: counters and seeds >= 1, waiting >= 0, 0 <= hidden < 1, spell >= 1 s, "
              "minutes >= 1", file=sys.stderr)
        return 1
    cam = camera(args.counters)
    seconds = int(args.minutes * 60)
    print(f"{args.counters} counters, {args.waiting} waiting at the start, {args.minutes:g} min, {args.seeds} seeds")
    print(f"  {'hidden':>7} {'waiting':>8} {'seen':>6} {'short':>6} {'wait err (mean)':>16} {'worst':>7}  seeds with waits")
    for hidden in args.hidden:
        runs = [one_run(cam, args.counters, args.waiting, hidden, args.spell_s, seconds, s) for s in range(args.seeds)]
        q, seen, err = (np.array(x) for x in zip(*runs, strict=True))
        err = err[~np.isnan(err)]  # a seed where nobody both arrived and was served has no wait to compare
        mean, worst = f"{'-':>16}", f"{'-':>7}"
        if err.size:
            mean, worst = f"{err.mean():+16.2f}", f"{err[np.abs(err).argmax()]:+7.2f}"
        short = 1 - seen.mean() / q.mean()
        print(f"  {hidden:7.3f} {q.mean():8.1f} {seen.mean():6.1f} {short:6.0%} {mean} {worst}  {err.size} of {args.seeds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
