"""Tiny real media made in the test (no binaries in the repository): images with Pillow, videos with PyAV."""

from __future__ import annotations

import io

import av
from PIL import Image


def image(width: int, height: int, fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, fmt)
    return out.getvalue()


def jpeg(width: int, height: int) -> bytes:
    return image(width, height, "JPEG")


def video(seconds: float, width: int = 32, height: int = 32, fps: int = 1, codec: str = "mpeg4", fmt: str = "mp4",
          audio: bool = False) -> bytes:
    """A real, decodable video of `seconds` (one still frame per 1/fps s): a few KB even for 16 minutes."""
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=8000) if audio else None
        frame = av.VideoFrame.from_image(Image.new("RGB", (width, height), "red"))
        for index in range(max(round(seconds * fps), 1)):
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if sound is not None:  # one second of silence
            for index in range(8):
                chunk = av.AudioFrame(format="fltp", layout="mono", samples=1024)
                chunk.planes[0].update(bytes(chunk.planes[0].buffer_size))
                chunk.sample_rate, chunk.pts = 8000, index * 1024
                container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return out.getvalue()
