"""The disk guard pauses below the threshold and resumes only with a margin above it."""

import pytest

from monitor.camera.diskguard import DISK_FULL_ALERT, MB, DiskGuard


@pytest.mark.parametrize(
    "pause_mb, free_mb_seq, paused_seq",
    [
        (200, [500, 150, 250, 399, 400, 150], [False, True, True, True, False, True]),  # resume at 2 x 200
        (5, [10, 4, 20, 21, 4], [False, True, True, False, True]),  # resume at 5 + 16 MB
        (0, [0, 1], [False, False]),  # 0: never paused
    ],
)
def test_pause_and_resume(tmp_path, pause_mb, free_mb_seq, paused_seq):
    guard = DiskGuard(tmp_path, pause_mb * MB, "cam")
    seen = []
    for free in free_mb_seq:
        guard._update(free * MB)
        seen.append(guard.paused)
        assert guard.alert == (DISK_FULL_ALERT if guard.paused else None)
    assert seen == paused_seq


def test_reads_the_real_filesystem(tmp_path):
    guard = DiskGuard(tmp_path / "not-yet" / "made", 0)
    assert guard.recording_allowed(0.0) and guard.free is not None and guard.free > 0
