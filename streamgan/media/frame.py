"""The items a :class:`~streamgan.media.reader.VideoReader` yields.

Frames and audio packets come out of the reader in one stream, in the order
they sit in the file, so a writer downstream can interleave them the same way
without buffering a whole track.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, TypeAlias

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream

RgbImage = npt.NDArray[np.uint8]
"""HxWx3 uint8 RGB."""

if TYPE_CHECKING:
    AudioPacketData: TypeAlias = av.Packet[AudioStream]
else:  # PyAV's Packet is generic only in its type stubs
    AudioPacketData = av.Packet


@dataclass(frozen=True)
class VideoFrame:
    """One decoded picture, already upright and in RGB.

    ``pts`` is kept exactly as the file has it (never renumbered), so variable
    frame rate survives a read/write round trip when written with ``time_base``.
    """

    index: int
    """0-based position in decode (output) order."""
    pts: int | None
    """Presentation timestamp in ``time_base`` units; None only if the file has none."""
    time_base: Fraction
    time: float
    """Seconds: ``pts * time_base``, or ``index / rate`` when the file has no timestamps."""
    image: RgbImage
    """HxWx3 uint8 RGB, rotation metadata already applied."""


@dataclass(frozen=True)
class AudioPacket:
    """A demuxed, still-encoded audio packet, for the writer to copy or transcode.

    Opaque to callers: pass it on untouched. Its ``stream`` attribute points into
    the reader's container, so it must not be read once the reader is closed;
    the packet's own data and timestamps stay valid.
    """

    packet: AudioPacketData
