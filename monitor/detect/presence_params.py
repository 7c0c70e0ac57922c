"""The constants of the person-based zone presence (monitor.detect.presence), with their reasons."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.detect.looks import HOLD_IOU, SAME_LOOK
from monitor.detect.tiles import SEATED_RATIO, STANDING_RATIO

__all__ = ["PresenceParams"]


@dataclass(frozen=True)
class PresenceParams:
    """Constants of the person-based zone presence (reasons in the comments)."""

    min_score: float = 0.3  # seats: a detection on a seat's footprint, confirmed over seconds (half-hidden staff score 0.35-0.5)
    # waiting areas: any box in the area counts, without a place or seconds to confirm it. Walkway
    # footage (PETS S2.L1) counts without bias at 0.35 and under-counts at 0.4; the 0.4 left
    # seated people out in the development offices; 0.3 lets cones and bags in.
    area_min_score: float = 0.35
    # The standing-scale tiles report only boxes at least this many standing heights tall (at their
    # lowest row): people standing or walking show ~1.0. Shorter ones found at that scale were, on
    # walkway footage (PETS S2.L1), traffic cones, a tripod, a sign and walkers' upper halves (dropped
    # before suppression, so those do not win over the whole body). Seated people show 0.3-0.65: the
    # seated-scale tiles, which see them twice as large, report them (with area_seated_ratio None,
    # areas where people sit keep every size at the one scale).
    standing_min_box: float = 0.45
    # ... and no box taller than max_box standing heights at its bottom row (with a person_height
    # calibration): nobody is. On one of my simulated halls, empty, the standing-scale tile returned a
    # box of the whole crop (0.97 of the frame, ~3 standing heights) at 0.35-0.4 for 40 s: a person
    # counted, and a box like it hides every person inside it from suppress.
    max_box: float = 2.0
    # Waiting areas are searched at two scales, merged (monitor.detect.persons.suppress): tiles sized
    # for standing people, and tiles sized for seated ones, whom the standing scale leaves too small
    # for the model (a seated hall of 10-18 people was under-counted by half). None: one scale.
    area_ratio: float = STANDING_RATIO  # waiting-area tile side / standing height (see monitor.detect.tiles)
    area_seated_ratio: float | None = SEATED_RATIO
    calls_per_s: float = 2.0  # detector calls per camera-second: 2 x ~14 ms; 3 made my simulator's served counts worse
    max_burst: float = 3.0  # calls saved up while nothing was due (a burst after a quiet spell)
    seat_period_s: float = 2.0  # a tile holding a seat is analysed at least this often
    uncertain_period_s: float = 1.0  # ... and this often while one of its seats is uncertain
    area_period_s: float = 8.0  # other tiles at least this often; sooner when motion touched them
    # Seated-scale waiting-area tiles have a budget of their own, so seats keep theirs: a seated crowd
    # changes slowly, and a tile touched by motion is due after seated_period_s (twice that if not);
    # a tile where the standing scale saw a short box appear comes first (once moved_period_s has passed).
    seated_calls_per_s: float = 0.5
    seated_period_s: float = 8.0
    # In a full hall the seated-scale tiles are finer: full_seated_ratio standing heights instead of
    # area_seated_ratio, from the moment the waiting count reaches full_per_tile people per seated-scale tile
    # of the usual plan until it falls full_hall_off people below that (monitor.detect.presence, _switch).
    # People packed side by side in a crop are found apart more often when they are larger in the model's
    # input; in halls with few people the finer tiles find things that are not there. Always at 1.3
    # (the twenty-ninth session): pasted crowds 0.33 / 0.63 / 1.03 -> 0.54 / 0.91 / 1.00, the development
    # offices 0.10 -> 0.18. Switched at 0.85 per tile (11 people in the development offices' hall of 13
    # tiles) with 3 people of hysteresis, measured on 18b6b8f (/work/notes/s44-full*.txt): crowd-14 1.07 ->
    # 0.84 (found - visible at 11 or more people -1.64 -> -0.57), crowd-8 0.62 -> 0.65, crowd-4 0.31 and the
    # development offices unchanged; my 3-minute renders 0.84 -> 0.70 (seed 7 2.60 -> 1.52), 10-minute ones
    # 1.63 -> 1.58 (seed 7 4.99 -> 4.13, seed 2 2.66 -> 2.55, but seed 1 1.63 -> 2.03, seed 8 1.32 -> 1.49). With
    # the budget raised in proportion to the finer tiles: crowd-14 0.93, crowd-8 0.70. None: never.
    full_per_tile: float | None = 0.85
    full_seated_ratio: float = 1.3
    full_hall_off: int = 3
    # A counted seated-scale sighting that a new analysis misses is kept (its box still has to look as
    # it did) while no motion has covered stirred_fraction of its box since it was last seen, for at
    # most seated_hold analyses in a row: the detector finds a half-hidden seated person in some
    # analyses and not in others, while someone who stands up or leaves moves over their box.
    seated_hold: int = 2
    # Seated-scale boxes scoring from low_score up to area_min_score count where the box differs from
    # the hall's median picture of the last minutes (monitor.detect.reference): someone who came in,
    # not the empty chair or bollard that scores as low and was there all along. A half-hidden
    # citizen in the second row scores 0.28-0.36 for minutes; in crowded halls pasted from the
    # development scenes this took the count MAE from 1.02 to 0.90 (8 people) and 0.38 to 0.31 (5),
    # means over five detector schedules, with office-4c 0.140 -> 0.146; 0.2 let empty chairs in
    # (office-4c 0.20 -> 0.32).
    # A low box where a counted sighting looked the same stays counted once the median has taken them
    # in. None: off.
    low_score: float | None = 0.25
    # A low box where a counted seated person was taken for gone (someone stood in front of them and their box
    # changed) counts while it looks as they looked when last counted and unlike the hall's median picture: they
    # are still there. Without it the place stays "vacated" for half the median's window (their empty chair would
    # differ from a median that still shows them) and they are not counted again at a low score: in the pasted
    # crowd of 7.9 people a citizen of the row nearest the counters, covered at 234 s, scored 0.25-0.29 there
    # for the next 100 s uncounted. Measured on the whole matrix against 1ec283b (/work/notes/s39-vb2-matrix.txt):
    # crowd-8 0.81 -> 0.73 (-1.23 -> -0.70 short at 11 or more people), office-4c under warm light 0.21 -> 0.17,
    # at 6 fps 0.23 -> 0.21, as a 1280x720 camera 0.15 -> 0.19; every other count, and every seat, session, wait
    # and absence of the matrix, the same. Without "unlike the median" (a box looking like them anywhere they
    # left): crowd-8 0.74 and my renders 0.89 -> 0.82, but office-4c begun late 0.17 -> 0.25 (someone who left
    # counted on for 45 s). False: off.
    vacated_back: bool = True
    # A seated-scale sighting counted for the first time is dated back to when motion last covered a quarter of
    # its box (BACKDATE_COVER: sitting down moves over all of it, a change map catches parts), but not before
    # someone counted in the waiting area last covered as much of it: the waiting count gains them over that
    # time (a Revision; a live worker also corrects the seconds it sent in the last worker.CORRECT_S). The
    # detector finds some seated people long after they sat down (a half-hidden back in a dim or noisy picture),
    # and their arrival is when they sat. Nothing is dated back without motion there since the analysis began.
    # Measured on the whole matrix against 9dc9c29 (/work/notes/s40-bd2-matrix.txt), count MAE: development
    # scenes 0.09 -> 0.07, degraded copies 0.38 -> 0.28 (dim office-4c 0.82 -> 0.54), begun late 0.17 -> 0.08,
    # crowd-8 0.73 -> 0.62, crowd-14 1.12 -> 1.07, my renders 0.89 -> 0.84; mean wait error: degraded 21 -> 15 %,
    # begun late 26 -> 21 %, development scenes 1 -> 2 %. With the median of the box's pixels (half of it
    # covered) the 70 kbit/s office-2c dated someone back 300 s, to the last citizen who sat there: count 0.13 ->
    # 0.50, wait 1 -> 55 %. False: off.
    backdate_found: bool = True
    low_overlap: float = 0.25  # ... and not overlapping a person found already by more than this share of their box (a part of them)
    # ... unless they are covered up to behind_overlap and their top lies at least behind_h standing heights
    # above the covering person's: someone in the row behind, half hidden by the one in front (a part of
    # the one in front never reaches above their head). In a hall pasted from 14 moments of the development
    # offices the count MAE went 1.35 -> 1.23 (2.28 -> 2.00 short at 11 or more people), crowd-8 0.71 -> 0.76
    # (0.47 -> 0.09 short at 11 or more), crowd-4 0.30 -> 0.33, my simulator 1.40 -> 1.33; the development
    # offices kept every figure, their degraded and other-camera copies all but the count (0.41 -> 0.40,
    # 0.16 -> 0.17). low_overlap 0.5 for all instead: office-4c 0.14 -> 0.32.
    # None: off.
    behind_overlap: float | None = 0.7
    behind_h: float = 0.1
    # A person the standing scale followed and a sweep lost is kept where a weaker box (from carry_score)
    # overlaps their followed box by carry_iou, for up to carry_s since they last scored area_min_score
    # (PresenceParams.area_min_score; ByteTrack's second match): a walker partly hidden by the one in
    # front scores 0.24-0.35 for a few seconds (TUD-Stadtmitte). The whole matrix against 794f396: real
    # footage 0.33 -> 0.31 (TUD-Stadtmitte 0.94 -> 0.86, S2L1 0.26 -> 0.23, S3-MF1 0.28 -> 0.29), my
    # simulator 1.62 -> 1.48, crowd-14 0.99 -> 0.96, crowd-4 0.31 -> 0.32, the development offices unchanged,
    # their copies 0.15 -> 0.14 and degraded 0.36 -> 0.35. None: off.
    carry_score: float | None = 0.2
    # A weak box (from carry_score) of a sweep that nobody found explains counts when motion outside everyone
    # found covers this share of it, it is standing size (standing_min_box) and no part of anyone found
    # (PresenceParams.low_overlap, behind_overlap): someone walking behind or beside another scores 0.2-0.35;
    # a cone, a bag or an empty chair scores as low but does not move. 0.3: on PETS S2L1, motion covers
    # 0.30-0.63 of the boxes of walkers found firmly (10th-90th percentile, 329 boxes). Measured on
    # 6361b1d: real footage 0.83 -> 0.74 (six footages; TUD-Stadtmitte 1.03 -> 1.17, the rest better), the
    # offices' count 0.01-0.04 better in 24 scenes and 0.01 worse in one (office-4c begun late), crowd-20's
    # 2.1 schedule 1.57 -> 1.49; no seat, session or wait changed anywhere. Counting all the motion in the
    # box, weak boxes beside walkers counted (real footage 0.99 -> 1.78 over the seven clips). None: off.
    moving_cover: float | None = 0.3
    # A person the standing scale followed and a sweep lost (no box of theirs, not even a weak one) is kept,
    # for up to carry_s since they last scored area_min_score, while someone else, followed before and found
    # nearer the camera, covers this share of their box (PersonOccupancy._behind): they walked in front.
    # Measured against 613d9e2 (benchmarks/accuracy.py): real footage 0.77 -> 0.61 over seven footages
    # (MOT17-09 1.47 -> 0.78, Venice-2 2.31 -> 1.53, CAVIAR's corridor 1.29 -> 1.11, the other four the
    # same); 0.4 and 0.6 give 0.60 and 0.61 on the six older ones (0.58 at 0.5). Offices: office-4c's count
    # 0.105 -> 0.108, my 3-minute renders 0.91 -> 0.90, crowd-8 0.82 -> 0.81; no seat, session, wait or
    # absence changed. Following the hidden person's box with the flow (it then follows whoever is in
    # front): 0.67 over the seven. None: off.
    behind_cover: float | None = 0.5
    carry_s: float = 6.0
    carry_iou: float = 0.4
    # The seated-scale tiles run the model on the crop and on its mirror image, each anchor taking the mean
    # of the two runs (PersonModel.boxes, mirrored): a seated-size box that scores over a threshold in one
    # run only by chance (S2L1's concrete block, 0.36) falls under it, and a half-hidden person scoring
    # just under one way round and over the other way counts. Measured (benchmarks/accuracy.py): real
    # footage 0.64 -> 0.33 (don't-care MAE; S2L1 0.65 -> 0.26, S3-MF1 0.58 -> 0.28); halls pasted from the
    # development offices 0.33/0.76/1.23 -> 0.31/0.57/0.99 (4/8/14 moments); the development offices
    # 0.11/0.14 -> 0.12/0.13, their other-camera copies 0.17 -> 0.15, degraded 0.40 -> 0.36. My simulator's
    # count got worse, 1.32 -> 1.62: its seated people score 0.2-0.36 either way round, and the mean loses
    # some of the few over the threshold. Cost: a seated-scale analysis is two runs (busy_camera.py 1.90 ->
    # 2.21 CPU-s per camera-minute).
    seated_mirrored: bool = True
    reference_every_s: float = 10.0  # the median's samples: one every this many seconds,
    reference_keep: int = 60  # ... the last this many (10 minutes),
    reference_min: int = 6  # ... and none before this many (1 minute)
    # In a noisy picture (monitor.detect.noise: a smoothed noise level of at least noisy_level) the
    # seated-scale crops come from the running mean of the frames (each frame weighing noisy_alpha,
    # about the last second at 5 fps): seated people keep their place, the noise averages out. On the
    # noisy copies of the development offices, means over three detector schedules: count MAE 0.30 ->
    # 0.24 and 0.37 -> 0.21, wait error 24 -> 13 % and 13 -> 10 %; my simulator's IR hall 0.65 -> 0.57.
    # Clean pictures measure 0.68 and under, noisy ones 0.78 and over. None: off.
    noisy_level: float | None = 0.8
    noisy_alpha: float = 0.2
    stirred_fraction: float = 0.1
    # An occupied seat turns off only once motion has covered stirred_fraction of the person's last
    # box since their last sighting: nobody leaves a seat without moving, while a half-hidden clerk
    # scoring near the threshold is missed for longer than off_s in noisy pictures.
    off_needs_motion: bool = True
    # ... unless they have not been seen for this long: a stuck seat would hide an absence (someone
    # left while the change map missed them, in a dim picture); the change is still dated back
    off_still_s: float = 120.0
    # ... nor while their last box still shows what it showed at their last sighting: its thumbnail
    # correlates with that one at hold_look or more (monitor.detect.looks.likeness), and that sighting
    # correlates with the one that turned the seat on at hold_same or more (the person who sat down, not
    # an empty chair the detector scored 0.3 after they left, which looks like itself as long as it
    # stands). A citizen seen from behind in front of the clerk in my simulator scores 0.3-0.4 in some
    # analyses and nothing in others for minutes while the clerk's arms move over them; sitting still,
    # their box correlates 0.93-1.0 with their last sighting. A service spot just left (the chair, the
    # desk, the clerk behind) still correlated 0.72 with its citizen's last sighting in the development
    # office-4c, so SAME_LOOK (0.5) would hold it. Measured (benchmarks/accuracy.py): the development
    # scenes, their degraded and other-camera copies, the crowds, the real footage and my 3-minute
    # renders unchanged to the digit; 10-minute renders seats 89.3 -> 90.2 %, served error 4.5 -> 3.75
    # per counter-hour, service MAE 54.3 -> 51.7 s (sim-8: 78.6 -> 85.9 %, 12 -> 6, 63.6 -> 42.3 s).
    # Without the hold_same check, office-2c-farther's spot was held for 90 s on one 0.31 sighting of
    # its empty chair (service MAE 8.7 -> 81.7 s). None: off.
    # hold_same is SAME_LOOK, the likeness that makes two sightings one person everywhere else (it was
    # 0.8). Over the analyses of occupied seats that found nobody on them after motion
    # (/work/notes/holdstat.py: development scenes, their farther, noisy and dim copies, my 10- and
    # 20-minute renders), 0.5 holds 37 % of those whose seat truly was occupied (0.8: 25 %) and the same
    # 1 of 593 whose seat was empty. Measured: every development scene and copy unchanged to the digit;
    # my renders: sim-8 at 3 minutes seats 84.8 -> 91.4 %, service MAE 43.3 -> 27.5 s; at 10 minutes
    # seats 91.5 -> 91.8 %, served error 4.5 -> 3.75 per counter-hour; at 20 minutes unchanged.
    hold_look: float | None = 0.9
    hold_same: float = SAME_LOOK
    # A sighting away from the last one (IoU under HOLD_IOU) that motion covers is someone on the move: it
    # counts as a sighting but does not replace the last still one, nor clear the motion seen over it since.
    # A citizen rising and walking off is found on their way out, and their spot must still turn off once
    # they are gone. In the dim copy of office-4c such a sighting (0.77 standing heights, IoU 0.25 with the
    # seated box) cleared the motion seen as they stood up; nothing moved over it after, and the spot was
    # held until the next citizen sat down 20 s later: two services as one. Measured (three seat schedules):
    # that copy's service MAE 7.9/13.7/12.4 -> 3.0/4.3/3.0 s, served error 5/0/0 -> 0; every other scene of
    # the matrix and my 20-minute renders unchanged to the digit. Worse: my seed 7 at 10 minutes, seats
    # 95.1/94.5/95.6 -> 93.8/92.3/92.7 %: someone standing still at the spot's edge (0.89 standing heights,
    # just under spot_standing) held it, where before a sighting of someone moving beside them had replaced
    # their box and the spot turned off once that one was gone (docs/PERFORMANCE.md). False: any fresh
    # sighting replaces it.
    moving_keeps_stirred: bool = True
    # A seat that turns on again within this long of turning off, with someone who looks like the one
    # it lost (their box's thumbnail correlates, monitor.detect.looks.same_look), is dated back over
    # the gap: a citizen who shifted in the chair and was lost for 6-10 s in a noisy picture is one
    # session, not two. The
    # next citizen at a counter comes 20-25 s after the last one left in the development scenes (called,
    # then walking over), and a live worker's seconds can be corrected for 15 s (SecondAggregator).
    rejoin_s: float = 10.0
    # A service spot where citizens sit, once found empty, turns on only with someone who came: a sighting
    # on it scoring under area_min_score whose box shows what the hall's median picture of the last minutes
    # shows there (likeness hold_look or more) is the furniture, not a citizen. In my IR render (seed 4) an
    # empty citizen chair began scoring 0.30-0.36 after 48 s and held its spot occupied to the end, a
    # session nobody had. The median may still show the spot's last citizen for half its span: a spot
    # occupied less than that long ago, or a box that looks like whoever last left it (same_look), is taken
    # as before. In the development office-4c and its dim copy the sightings it turned down were all on an
    # empty spot. Measured, means of three seat schedules (`seat_period_s` 1.9, 2.0,
    # 2.1; /work/notes/sched.py): seed 4 at 3 minutes seats 69.0 -> 80.5 %, wait error 58 -> 8.5 %; office-4c
    # and its noisy and far copies within a schedule's spread; the dim copy's service MAE 13.6 -> 11.3 s,
    # served error 0 -> 1.7 (5 on one schedule of three, a merge of two services that the schedule decides;
    # docs/PERFORMANCE.md). Staff seats are left out: a clerk seated all along and missed now and then is
    # taken into the median (noisy office-2c's clerk 89 -> 83 % with them). False: off.
    spot_came_in: bool = True
    # A service spot where citizens sit (its zone's `seated`, the default) is not taken by a box at least
    # spot_standing standing heights tall: someone standing there is queueing beside it, passing, or the
    # citizen arriving or leaving (a service runs from sitting down to standing up). Sightings on spots,
    # labelled with the truth (/work/notes/spotheight.py): seated citizens 0.2-0.9 standing heights (1 % at
    # 0.9 or more: 0-4 % per scene); sightings with nobody on the spot 0.5-1.2, half of them 0.9 or more
    # (my simulator's queues beside the spots, a citizen still standing at the spot after their service).
    # A seated person's head is 0.73 standing heights above their seat's floor point, a standing one's 1.
    # Measured (benchmarks/accuracy.py; means of three seat schedules in docs/PERFORMANCE.md): service MAE on the
    # development scenes 4.7 -> 3.5 s, their other-camera copies 5.2 -> 4.2 s, my 10-minute renders' waits
    # 52 -> 40 %; the dim copy of office-4c 9.8 -> 13.6 s over three schedules.
    # None: any size takes a spot (citizens standing at the counter: `seated: false` on the spot does that).
    spot_standing: float | None = 0.9
    moved_period_s: float = 2.0  # a tile touched by motion waits at least this long
    moved_fraction: float = 0.002  # share of a tile's pixels changed that counts as motion in it
    on_s: float = 2.0  # sightings must span this long: people walking across a seat take < 1 s
    # ... at one place: an empty seat turns on with the sightings whose boxes overlap the last one's by
    # on_place_iou (IoU) or more, and is occupied from the first of them. Someone seated stays put; a
    # citizen walking up to a spot past the row in front of it, legs hidden, is found short (under
    # spot_standing) at one place and then another, and those sightings spanned on_s: in a crowded hall
    # pasted from office-4c a walker held counter 4's spot for 15 s before sitting down. Sightings that
    # alternate with someone beside the seat still count (the seat's nearest box changes, not its person).
    # The default is HOLD_IOU, the overlap that makes two boxes one person everywhere else. Measured (accuracy.py,
    # docs/PERFORMANCE.md): development scenes' service MAE 2.2 -> 1.5 s, seats 99.7 -> 99.9 %; their 16
    # other-camera copies 3.3 -> 2.7 s (one copy's citizen sitting down 4 s before the end lost: served
    # 0 -> 5 there); crowded halls' seats, means of three seat schedules, 97.2 -> 98.3 % (9.5 people).
    # None: any sightings.
    on_place_iou: float | None = HOLD_IOU
    # ... and on a service spot, where people pass along the aisle, two sightings at one place with on_gap_misses
    # analyses or more between them that found nobody, whose boxes do not look alike (looks.same_look), are two
    # people: only the sightings after the last such gap count. In a full hall one walker is found on a spot, nobody
    # in the next analyses, another at the same place seconds later. Of 14 turn-ons of seats truly empty, logged in
    # the development offices, their dim copies and two pasted halls (/work/notes/turnons.py), 6 had 2-4 misses and
    # a likeness of -0.01 to 0.4 between the two; the three seated citizens missed twice or more between sightings
    # looked alike across the misses (0.75-0.9). One miss never parts sightings: a citizen sitting down looks unlike
    # their seated self. Staff seats chain their sightings whatever they look like (a clerk half hidden by a
    # monitor; nobody passes behind the counter). Measured (accuracy.py; crowds as means of seat_period_s 1.9, 2.0,
    # 2.1; docs/PERFORMANCE.md): the development scenes unchanged to the digit; halls pasted from 14 and 20 moments,
    # seats 98.3 -> 98.7 % and 97.2 -> 98.4 % (95.7 -> 98.1 % on the 2.1 schedule); my 10-minute renders seats 91.6
    # -> 92.5 %, but one 20-minute render 97.5 -> 96.4 % (citizens seen from behind, found rarely, in boxes that
    # differ). None: off.
    on_gap_misses: int | None = 2
    off_s: float = 6.0  # unseen this long: gone (a citizen leaves a seat for longer; detector gaps are shorter)
    window_s: float = 10.0  # sightings judged over this window when turning a seat on
    side_h: float = 0.25  # an anchor may lie this many standing heights beside a seat's footprint
    below_h: float = 0.15  # ... or this far below it (feet stretched forward)
    above_h: float = 0.25  # ... or this far above it (a seat pushed back under a desk)
    # a seated citizen's head top lies this many standing heights above their seat's floor point: where a
    # waiting-area sighting cut short (head and shoulders above a chair back or someone in front) has its seat.
    # Measured on seated citizens at service spots: 0.71-0.77 in the development scenes, 0.72-0.78 in my
    # simulator (1.25-1.3 m of a 1.7 m person). Seats keep SEATED_FIT (0.6): clerks lean to the desk (0.62-0.66).
    sitting_head_h: float = 0.73
    follow: bool = True  # move the waiting areas' boxes with the picture (optical flow) between sweeps
    motion_min: float = 0.01  # fraction of a motion zone moving that counts as motion
    motion_hold_s: float = 2.0  # a motion zone stays on this long after its last motion
