"""The site: cameras.yaml loaded and validated, its errors explained, edits written back, secrets and live reload."""
