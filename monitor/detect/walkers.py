"""People walking in the view, from the motion map (pure: arrays in, a number out).

A citizen's wait starts when they walk in, not when they reach the waiting area: between the door,
the ticket machine and a chair they are seen moving for 5-20 s. The person detector only looks at
the zones, but the motion map covers the whole picture, so the number of person-sized moving blobs
outside the seats is reported every frame as the samples of a camera-wide pseudo-zone (WALKING_ZONE);
the analytics date a waiting-area arrival back to the start of the walk that brought it
(monitor.counters.analytics.walked_in).

A blob is a walker when its area is at least WALKER_AREA of the square of a standing person's
height at its lowest row (the perspective of the zones' person_height): a whole walking person
covers about 0.3 of that square, a sitter shifting on a chair or a hand on a desk much less.
Seated people's bodies (the seats' footprints extended up by a seated height) are left out: staff
and citizens at the counters move all day without walking anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from monitor.detect.occupancy import SEAT_KINDS, ZoneSpec
from monitor.detect.tiles import SEATED_FIT, Perspective

__all__ = ["WALKER_AREA", "WALKING_ZONE", "Walkers"]

# Zone ids are slugs starting with a letter or digit (monitor.site.base.check_slug), so no configured
# zone can take this one.
WALKING_ZONE = "_walking"
# Share of (standing height)^2 a moving blob must cover: about a sixth of a walking silhouette (0.3),
# i.e. a head and torso when chair rows hide the legs.
WALKER_AREA = 0.05
# A seated body reaches this many standing heights above its seat's footprint (SEATED_FIT, plus the
# seat pushed back under a desk, as PresenceParams.above_h allows).
SEATED_REACH = SEATED_FIT + 0.25


class Walkers:
    """Counts person-sized moving blobs outside the seated bodies, on change maps of one shape."""

    def __init__(self, zones: Sequence[ZoneSpec], persp: Perspective, shape: tuple[int, int]) -> None:
        h, w = shape
        self.persp = persp
        self.height = h
        seated = np.zeros(shape, np.uint8)
        for z in zones:
            if z.kind not in SEAT_KINDS:
                continue
            reach = SEATED_REACH * persp.height(max(y for _, y in z.points))
            body = list(z.points) + [(x, y - reach) for x, y in z.points]
            hull = cv2.convexHull(np.array([[x * w, y * h] for x, y in body], np.float32))
            cv2.fillPoly(seated, [np.round(hull).astype(np.int32)], 255)
        self.free = cv2.bitwise_not(seated)  # where a moving blob may be a walker

    def count(self, changed: np.ndarray) -> int:
        """The number of walker-sized blobs in a change map (uint8 0/255) outside the seated bodies."""
        moving = cv2.bitwise_and(changed, self.free)
        n, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        found = 0
        for i in range(1, n):
            _, top, _, rows, area = (int(v) for v in stats[i])
            tall = self.persp.height((top + rows) / self.height) * self.height  # standing height in pixels
            found += area >= WALKER_AREA * tall * tall
        return found
