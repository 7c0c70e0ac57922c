"""Per-camera worker processes: stream sources, decoding, clip recording, worker stats, disk guard and stream checks."""
