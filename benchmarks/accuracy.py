"""Accuracy of occupancy detection and counter analytics against the simulator's ground truth.

Usage: python benchmarks/accuracy.py [--seeds 1 2 3 4] [--minutes 10] [--keep DIR]

Each seed renders a simulated office (two counters) with its own crowding and lighting (see
VARIANTS), runs `analyze_file` on every camera's sub stream and compares with truth.json. Truth
conventions: seat and waiting-area counts are seated people; a citizen's wait runs from their
arrival (or the start of the video, if earlier) to the start of their service; sessions and
citizens whose service began before the video are left out of served counts and waits, and so are
services that begin in the last TAIL_S seconds (too short yet to be told from a passer-by).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from monitor.counters.analytics import AnalyticsParams
from monitor.counters.analyze import analyze_file
from monitor.site.config import load_config
from monitor.simulate import SimConfig, simulate_office

SEATS = ("staff-seat", "service-spot")
MATCH_S = 20.0  # a detected session starting this close to a true service start is that service
MIN_ABSENCE_S = 120.0  # absences the target speaks of
TAIL_S = AnalyticsParams().min_session_s  # a service starting this close to the end is too short to be a session yet
# Per seed (cycled): how busy the office is and how often and how hard the lights change.
VARIANTS = [
    {"mean_arrival_s": 75.0, "mean_light_step_s": 180.0, "light_step": (15.0, 25.0)},
    {"mean_arrival_s": 50.0, "mean_light_step_s": 90.0, "light_step": (15.0, 25.0)},
    {"mean_arrival_s": 120.0, "mean_light_step_s": 300.0, "light_step": (20.0, 30.0), "drift_levels": 8.0},
    {"mean_arrival_s": 90.0, "mean_light_step_s": 60.0, "light_step": (10.0, 20.0)},
]


@dataclass
class Tally:
    """Sums over every camera of every seed."""

    seat_ok: int = 0
    seat_n: int = 0
    served_err: float = 0.0
    counter_hours: float = 0.0
    service_err: list[float] = field(default_factory=list)
    wait_det: list[float] = field(default_factory=list)  # detected mean wait x served, per camera
    wait_true: list[float] = field(default_factory=list)
    served_det: list[int] = field(default_factory=list)
    served_true: list[int] = field(default_factory=list)
    absences_found: int = 0
    absences_n: int = 0
    count_err: list[float] = field(default_factory=list)
    analyse_s: float = 0.0
    frames: int = 0
    rows: list[str] = field(default_factory=list)


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def score_camera(result: dict, truth: dict, duration: float, tally: Tally, label: str) -> None:
    """Add one camera's comparison to the tally."""
    expected = {row["t"]: row["zones"] for row in truth["per_second"]}
    ok = n = 0
    for row in result["per_second"]:
        for z in SEATS:
            ok += row["zones"][z]["occupied"] == (expected[row["t"]][z] > 0)
            n += 1
        tally.count_err.append(abs(row["zones"]["waiting"]["count"] - expected[row["t"]]["waiting"]))
    tally.seat_ok += ok
    tally.seat_n += n

    services = [c for c in truth["citizens"]
                if c["service_start_s"] is not None and 0 <= c["service_start_s"] < duration - TAIL_S]
    sessions = [s for s in result["sessions"] if s["start_s"] > 0]
    served = result["waiting"]["served"] - sum(1 for s in sessions if s["start_s"] >= duration - TAIL_S)
    tally.served_err += abs(served - len(services))
    tally.counter_hours += duration / 3600
    tally.served_det.append(served)
    tally.served_true.append(len(services))
    for c in services:
        near = [s for s in sessions if abs(s["start_s"] - c["service_start_s"]) <= MATCH_S]
        if near:
            s = min(near, key=lambda s: abs(s["start_s"] - c["service_start_s"]))
            true_len = min(c["service_end_s"], duration) - c["service_start_s"]
            tally.service_err.append(abs((s["end_s"] - s["start_s"]) - true_len))
    waits = [c["service_start_s"] - max(c["arrival_s"], 0.0) for c in services]
    if waits and served:
        tally.wait_true.append(float(np.sum(waits)))
        tally.wait_det.append(result["waiting"]["mean_wait_s"] * served)

    for a in truth["absences"]:
        start, end = max(a["start_s"], 0.0), min(a["end_s"], duration)
        if end - start < MIN_ABSENCE_S:
            continue
        tally.absences_n += 1
        found = sum(overlap(start, end, d["start_s"], d["end_s"]) for d in result["absences"])
        tally.absences_found += found >= 0.5 * (end - start)
    w = result["waiting"]
    tally.rows.append(
        f"  {label:<14} seats {ok / n:6.1%}  served {served:2d}/{len(services):2d}  "
        f"wait {w['mean_wait_s']:6.1f}/{(np.mean(waits) if waits else 0):6.1f} s  "
        f"absences {len(result['absences'])}/{sum(1 for a in truth['absences'] if a['end_s'] > 0 and a['start_s'] < duration)}"
    )


def run_seed(seed: int, minutes: float, out: Path, tally: Tally) -> float:
    variant = VARIANTS[(seed - 1) % len(VARIANTS)]
    cfg = SimConfig(minutes=minutes, seed=seed, main_size=(640, 360), sub_size=(320, 180), **variant)
    t0 = time.perf_counter()
    sim = simulate_office(out, cfg)
    sim_s = time.perf_counter() - t0
    config = load_config(sim.config_path)
    truth = json.loads(sim.truth_path.read_text(encoding="utf-8"))
    for cam, paths in sim.videos.items():
        t0 = time.perf_counter()
        result = analyze_file(paths["sub"], config, cam)
        tally.analyse_s += time.perf_counter() - t0
        tally.frames += round(result["duration_s"] * result["fps"])
        score_camera(result, truth["cameras"][cam], cfg.duration_s, tally, f"seed {seed} {cam}")
    return sim_s


def table(t: Tally) -> list[tuple[str, str, str, bool]]:
    occ = t.seat_ok / max(t.seat_n, 1)
    served_h = t.served_err / max(t.counter_hours, 1e-9)
    mae = float(np.mean(t.service_err)) if t.service_err else float("nan")
    wait_rel = (sum(t.wait_det) - sum(t.wait_true)) / sum(t.wait_true) if t.wait_true else float("nan")
    recall = t.absences_found / t.absences_n if t.absences_n else 1.0
    count_mae = float(np.mean(t.count_err)) if t.count_err else float("nan")
    return [
        ("seat/spot occupancy per second", f"{occ:.2%}", ">= 97 %", occ >= 0.97),
        ("served error per counter-hour", f"{served_h:.2f}", "<= 1", served_h <= 1.0),
        (f"service time MAE ({len(t.service_err)} matched)", f"{mae:.1f} s", "<= 10 s", mae <= 10),
        ("mean wait relative error", f"{wait_rel:+.1%}", "within 10 %", abs(wait_rel) <= 0.10),
        (f"absences >= 2 min found ({t.absences_n})", f"{recall:.0%}", ">= 95 %", recall >= 0.95),
        ("waiting-area count MAE", f"{count_mae:.2f}", "(reported)", True),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--keep", type=Path, help="Write the simulations here instead of a temporary folder.")
    args = ap.parse_args()
    tally = Tally()
    sim_s = 0.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            out = (args.keep or Path(tmp)) / f"seed-{seed}"
            sim_s += run_seed(seed, args.minutes, out, tally)
            print(tally.rows[-2] + "\n" + tally.rows[-1], flush=True)
    print()
    print(f"{'metric':<36} {'value':>10}  {'target':<12} result")
    for name, value, target, ok in table(tally):
        print(f"{name:<36} {value:>10}  {target:<12} {'PASS' if ok else 'FAIL'}")
    per_frame = tally.analyse_s / max(tally.frames, 1) * 1e3
    print(f"\nsimulate {sim_s:.0f} s, analyse {tally.analyse_s:.0f} s ({tally.frames} detect frames, "
          f"{per_frame:.2f} ms per frame incl. decoding), total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
