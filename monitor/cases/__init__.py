"""Complaint-case evidence: the ZIP export (clips, notes, audit extract, manifest) and its verification."""
