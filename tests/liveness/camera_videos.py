"""Videos for Chromium's fake camera (y4m, 4:2:0), made from the shared photos: framed so a
face sits where the capture page's oval is, or made to trigger one of its cues (too small,
off-centre, too dark, two faces, too close, no face), or a head that turns.

Every video is 480x640 (portrait, the liveness samples' size) so the page's oval maps to the
same place in each. Chromium loops a video from its first frame when the camera opens.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 480, 640
OVAL_CENTRE = (0.5 * WIDTH, 0.48 * HEIGHT)  # guidance.js: the oval's centre in a 3:4 frame
GREY = (127, 127, 127)


def read_photo(path: Path) -> np.ndarray:
    """The photo upright, cut to an even size (4:2:0 needs one)."""
    from shared.engine.imaging import decode_image

    image = decode_image(path.read_bytes())
    height, width = (side - side % 2 for side in image.shape[:2])
    return np.ascontiguousarray(image[:height, :width])


def face_box(image: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, width) of the largest face the engine's detector finds."""
    from shared.engine.detector import YuNetDetector

    (face,) = YuNetDetector().detect(image, max_faces=1)
    box = face.rectangle
    return box.left + box.width / 2, box.top + box.height / 2, float(box.width)


def placed(image: np.ndarray, scale: float, centre: tuple[float, float], at: tuple[float, float],
           border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """The image scaled by ``scale`` with its point ``centre`` moved to ``at`` of a frame."""
    matrix = np.float32([[scale, 0, at[0] - scale * centre[0]], [0, scale, at[1] - scale * centre[1]]])
    return cv2.warpAffine(image, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=border, borderValue=GREY)


def framed(photo: Path, face_width_share: float = 0.4, mirrored: bool = False) -> np.ndarray:
    """The photo's face centred on the oval, its width this share of the frame's."""
    image = read_photo(photo)
    if mirrored:
        image = np.ascontiguousarray(image[:, ::-1])
    x, y, width = face_box(image)
    return placed(image, face_width_share * WIDTH / width, (x, y), OVAL_CENTRE, cv2.BORDER_REPLICATE)


def cue_frames(photo: Path) -> dict[str, np.ndarray]:
    """One frame per framing cue of the capture page (guidance.js), from one portrait."""
    image = read_photo(photo)
    x, y, width = face_box(image)
    good = framed(photo)
    pair = np.full((HEIGHT, WIDTH, 3), GREY, np.uint8)
    half = placed(image, 0.2 * WIDTH / width, (x, y), (0.25 * WIDTH, OVAL_CENTRE[1]))
    pair[:, : WIDTH // 2] = half[:, : WIDTH // 2]
    pair[:, WIDTH // 2:] = np.roll(half, WIDTH // 2, axis=1)[:, WIDTH // 2:]
    return {
        "moveCloser": placed(image, 0.13 * WIDTH / width, (x, y), OVAL_CENTRE),
        "centre": placed(image, 0.4 * WIDTH / width, (x, y), (0.22 * WIDTH, 0.3 * HEIGHT)),
        "tooDark": (good * 0.15).astype(np.uint8),
        "multipleFaces": pair,
        "moveBack": placed(image, 0.85 * WIDTH / width, (x, y), OVAL_CENTRE, cv2.BORDER_REPLICATE),
        "noFace": np.full((HEIGHT, WIDTH, 3), GREY, np.uint8),
    }


def write_y4m(frames: list[tuple[np.ndarray, float]], target: Path, fps: int = 10) -> Path:
    """A y4m video showing each (frame, seconds) in turn; frames of one even size."""
    height, width = frames[0][0].shape[:2]
    with target.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image, seconds in frames:
            yuv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2YUV_I420).tobytes()
            for _ in range(max(1, round(seconds * fps))):
                video.write(b"FRAME\n" + yuv)
    return target
