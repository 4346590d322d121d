"""Debian's chromium under Playwright, as the browser tests drive it (never `playwright install`)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
# As /work/.library/env/machines/python.md gives them: no network chatter, no sandbox as root.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def write_y4m(photo: Path, target: Path, frames: int = 15) -> None:
    """A still video of the upright photo (even size, 4:2:0) that Chromium's fake camera loops."""
    from shared.engine.imaging import decode_image

    image = decode_image(photo.read_bytes())
    height, width = (side - side % 2 for side in image.shape[:2])
    yuv = cv2.cvtColor(np.ascontiguousarray(image[:height, :width]), cv2.COLOR_BGR2YUV_I420)
    with target.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + yuv.tobytes())
