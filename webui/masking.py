"""Downloads of recordings leave the system privacy-masked: one helper for every download route."""

from __future__ import annotations

from pathlib import Path

from flask import Response, send_file

from monitor.camera.privacy import PrivacyMask, masked_copy
from webui.site import site_config


def masked_download(path: Path, camera: str, name: str) -> Response | None:
    """The file re-encoded with the camera's privacy_masks as an attachment `name`, or None if the camera has none."""
    masks = next((c.privacy_masks for c in site_config().cameras if c.id == camera), [])
    if not masks:
        return None
    return send_file(masked_copy(path, PrivacyMask(masks)), mimetype="video/mp4", as_attachment=True,
                     download_name=name)
