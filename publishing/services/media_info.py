"""What media we host really is: every upload decoded with a real library before it is accepted.

Images are fully loaded with Pillow, its decompression-bomb guard set to MEDIA_MAX_IMAGE_PIXELS.
Videos are opened with PyAV (FFmpeg's libraries, shipped in its wheels: no system binary needed),
which reads the container's duration, the first video stream's resolution, frame rate and codec,
and decodes its first frame. A file judged only by its first bytes (a PNG header and junk, a
truncated JPEG, a 20000x20000 PNG of a few KB) used to be accepted with no dimensions, so every
platform's size, aspect and duration rules were silently skipped: now it is refused, and accepted
media always has its dimensions (a video its duration too).

Media that lives elsewhere is never downloaded here (that would let any URL make our server fetch
it); the platform checks it when it pulls the file, and its error lands on the target.
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")


class UnreadableMediaError(ValueError):
    """The file cannot be decoded as the image/video it claims to be; str() is safe to show the user."""


@dataclass(frozen=True)
class MediaInfo:
    width: int | None = None
    height: int | None = None
    duration: float | None = None  # seconds (videos)
    frame_rate: float | None = None  # frames per second (videos)
    video_codec: str = ""
    audio_codec: str = ""

    @property
    def aspect_ratio(self) -> float | None:
        return self.width / self.height if self.width and self.height else None


def own_media_path(url: str) -> str | None:
    """The storage name behind one of our public media URLs, None for anyone else's (or a path that
    would leave the media folder once normalised: `/media/../../etc/passwd`)."""
    prefix = f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}"
    if not url.startswith(prefix):
        return None
    name = url[len(prefix):].split("?", 1)[0].split("#", 1)[0]
    return None if has_dot_segments(name) or not name else unquote(name)


def has_dot_segments(path: str) -> bool:
    """Whether the URL path (percent-decoded, either slash) holds `.`/`..` segments, i.e. is not already
    normalised: such a URL names another file than it seems to, here or on any host."""
    decoded = unquote(urlsplit(path).path if "://" in path else path).replace("\\", "/")
    return "\x00" in decoded or any(segment in (".", "..") for segment in decoded.split("/"))


def probe_file(fileobj, media_type: str) -> MediaInfo:
    """Decode the file as an image or a video; raises UnreadableMediaError (with a user-safe message)."""
    source = getattr(fileobj, "file", fileobj)  # Django's File wrapper -> the real file object
    try:
        source.seek(0)
        return _probe_image(source) if media_type == "image" else _probe_video(source)
    finally:
        source.seek(0)


def _probe_image(source) -> MediaInfo:
    from PIL import Image

    limit = settings.MEDIA_MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit  # Pillow refuses over twice this while opening, warns over it: we refuse over it
    too_big = UnreadableMediaError(f"This image has more than {limit:,} pixels.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below, by our own message
            image = Image.open(source)
        with image:
            width, height = image.size
            if image.format not in IMAGE_FORMATS:
                raise UnreadableMediaError("This file is not a readable image (JPEG, PNG or WebP).")
            if width * height > limit:
                raise too_big
            image.load()  # the full decode: a truncated or corrupt file fails here
    except UnreadableMediaError:
        raise
    except Image.DecompressionBombError:
        raise too_big from None
    except Exception as error:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError, EOFError...
        logger.info("Upload refused: image does not decode (%s)", type(error).__name__)
        raise UnreadableMediaError("This file is not a readable image.") from None
    if not width or not height:
        raise UnreadableMediaError("This file is not a readable image.")
    return MediaInfo(width=width, height=height)


def _probe_video(source) -> MediaInfo:
    import av

    unreadable = UnreadableMediaError("This file is not a readable video.")
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise unreadable
            stream = container.streams.video[0]
            frame = next(container.decode(stream), None)  # the first frame really decodes
            if frame is None:
                raise unreadable
            duration = _seconds(container.duration, 1 / av.time_base) or _seconds(stream.duration, stream.time_base)
            audio = container.streams.audio
            info = MediaInfo(
                width=stream.codec_context.width or frame.width, height=stream.codec_context.height or frame.height,
                duration=duration, frame_rate=float(stream.average_rate) if stream.average_rate else None,
                video_codec=stream.codec_context.name or "", audio_codec=audio[0].codec_context.name if audio else "",
            )
    except UnreadableMediaError:
        raise
    except Exception as error:  # noqa: BLE001 - FFmpeg's errors (InvalidDataError...), OSError, ValueError
        logger.info("Upload refused: video does not decode (%s)", type(error).__name__)
        raise unreadable from None
    if not info.width or not info.height or not info.duration or info.duration <= 0:
        raise unreadable
    return info


def _seconds(value, unit) -> float | None:
    return float(value * unit) if value else None


def probe_url(url: str, media_type: str) -> MediaInfo | None:
    """MediaInfo for a URL we host, None for anyone else's. Raises UnreadableMediaError when our URL
    names no stored file or one that does not decode as `media_type`."""
    path = own_media_path(url)
    if path is None:
        return None
    try:
        exists = default_storage.exists(path)
    except SuspiciousFileOperation:  # outside MEDIA_ROOT
        exists = False
    if not exists:
        raise UnreadableMediaError("No uploaded file at this URL; upload it through /api/v1/media/ first.")
    return _probe_stored(path, media_type)


@functools.lru_cache(maxsize=256)
def _probe_stored(path: str, media_type: str) -> MediaInfo:
    # Stored names are random and never rewritten, so one decode per (file, type) serves every check
    # of a post (the field check, each platform's rules) and later edits of it.
    with default_storage.open(path, "rb") as fileobj:
        return probe_file(fileobj, media_type)
