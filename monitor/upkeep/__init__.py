"""Keeping the disk tidy: retention plans, pruning old clips and rows, recovering clips left by a crash."""
