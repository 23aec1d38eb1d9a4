"""Media I/O on PyAV: reading videos and images, writing videos atomically."""

from streamgan.media.atomic import atomic_output
from streamgan.media.frame import AudioPacket, VideoFrame
from streamgan.media.image import read_image, write_image
from streamgan.media.info import VIDEO_SUFFIXES, VideoInfo
from streamgan.media.reader import VideoReader, probe
from streamgan.media.writer import VideoWriter

__all__ = [
    "VIDEO_SUFFIXES",
    "AudioPacket",
    "VideoFrame",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "atomic_output",
    "probe",
    "read_image",
    "write_image",
]
