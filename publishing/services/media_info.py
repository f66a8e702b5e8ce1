"""What we can know about media we host: image size and video duration, read from the stored file.

Media that lives elsewhere is never downloaded here (that would let any URL make our server fetch
it); the platform checks it when it pulls the file, and its error lands on the target.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaInfo:
    width: int | None = None
    height: int | None = None
    duration: float | None = None  # seconds

    @property
    def aspect_ratio(self) -> float | None:
        return self.width / self.height if self.width and self.height else None


def own_media_path(url: str) -> str | None:
    prefix = f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}"
    return url[len(prefix):] if url.startswith(prefix) else None


def probe_file(fileobj, media_type: str) -> MediaInfo:
    """Read dimensions (images, via Pillow's header parse) or duration (MP4/MOV, from the movie header)."""
    try:
        if media_type == "image":
            from PIL import Image

            with Image.open(fileobj) as image:  # reads the header only; no full decode
                width, height = image.size
            return MediaInfo(width=width, height=height)
        return MediaInfo(duration=mp4_duration(fileobj))
    except Exception:  # noqa: BLE001 - an unreadable file is checked by the platform instead
        logger.info("Could not read %s metadata", media_type)
        return MediaInfo()
    finally:
        fileobj.seek(0)


def probe_url(url: str, media_type: str) -> MediaInfo | None:
    """MediaInfo for a URL we host, None for anyone else's."""
    path = own_media_path(url)
    if path is None or not default_storage.exists(path):
        return None
    with default_storage.open(path, "rb") as fileobj:
        return probe_file(fileobj, media_type)


def mp4_duration(fileobj, max_boxes: int = 10_000) -> float | None:
    """Seconds from an MP4/MOV movie header (moov/mvhd), skipping media data without reading it.

    Hand-written on purpose: tag libraries (mutagen) report an audio track's length, so a silent video
    would have none, and ffprobe is not a Python dependency. ISO BMFF boxes: size, type, payload.
    """
    end = _size(fileobj)
    box = _find_box(fileobj, 0, end, b"moov", max_boxes)
    if box is None:
        return None
    mvhd = _find_box(fileobj, box[0], box[1], b"mvhd", max_boxes)
    if mvhd is None:
        return None
    fileobj.seek(mvhd[0])
    head = fileobj.read(32)
    if not head:
        return None
    if head[0] == 1:  # version 1: 64-bit times
        timescale, duration = int.from_bytes(head[20:24], "big"), int.from_bytes(head[24:32], "big")
    else:
        timescale, duration = int.from_bytes(head[12:16], "big"), int.from_bytes(head[16:20], "big")
    return duration / timescale if timescale else None


def _size(fileobj) -> int:
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def _find_box(fileobj, start: int, end: int, name: bytes, max_boxes: int) -> tuple[int, int] | None:
    """(payload start, payload end) of the first `name` box between start and end."""
    pos = start
    for _ in range(max_boxes):
        if pos + 8 > end:
            return None
        fileobj.seek(pos)
        header = fileobj.read(8)
        size, kind = int.from_bytes(header[:4], "big"), header[4:8]
        offset = 8
        if size == 1:
            size, offset = int.from_bytes(fileobj.read(8), "big"), 16
        elif size == 0:
            size = end - pos
        if size < offset:
            return None
        if kind == name:
            return pos + offset, min(pos + size, end)
        pos += size
    return None
