"""Finding and reading the watermark, blind (no original needed), over one or many frames.

Per frame (:meth:`WatermarkDetector.add_luma`) the luma is *whitened*: an
edge-preserving (bilateral) smoothing estimates the picture, which is
subtracted, and the residual is divided by its local energy, so edges and texture
do not drown the mark and flat areas, where the residual is mostly mark, count
fully. Whitened frames of the same size are summed: the mark is identical in every
frame, codec noise and moving content are not.

At :meth:`WatermarkDetector.result`:

1. **Scale.** The pattern repeats every tile, so the sum's autocorrelation peaks
   on the lattice of the tile period, whatever crop or rescale happened. Each
   candidate period is scored on all its lattice points at once (see
   :func:`tile_periods`). The exact periods of an unscaled frame are always tried
   too.
2. **Phase.** The sum is resampled so a tile is ``CELLS * CANONICAL_CELL_PX``
   pixels and folded (all tiles added into one), then circularly cross-correlated
   with the keyed pilot tile: the peak gives the crop offset, its height over the
   correlation's spread (a z-score) says how sure the sync is.
3. **Bits.** Each cell of the aligned tile is matched-filtered and despread with
   its keyed sign; each coded bit's cells are added into one soft value; soft
   Viterbi decodes the 88 message bits and the keyed MAC decides ``present``.

The best few (scale, phase) hypotheses by pilot z-score are decoded; with a
24-bit MAC the chance that noise passes is about 2e-7 per detection.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import scipy.fft
import scipy.ndimage
from numpy.typing import NDArray

from streamgan.errors import InputError
from streamgan.media.container import ffmpeg_reason, open_input
from streamgan.safety.watermark_ecc import conv_encode, viterbi_decode
from streamgan.safety.watermark_key import WatermarkKey
from streamgan.safety.watermark_pattern import (
    BLUR_PER_CELL,
    CANONICAL_CELL_PX,
    CELLS,
    CELLS_PER_SIDE,
    CODED_BITS,
    MIN_CELL_PX,
    cell_px_for,
    chip_layout,
    render_tile,
    wrap_blur,
)
from streamgan.safety.watermark_payload import (
    MESSAGE_BITS,
    PAYLOAD_BITS,
    WatermarkPayload,
    parse_message,
)

log = logging.getLogger(__name__)

TILE = CELLS * CANONICAL_CELL_PX
"""Side of the canonical tile the detector works on, in pixels."""
MIN_PERIOD = 24.0
"""Shortest tile period searched, in pixels (a 3 px-cell tile downscaled to 1/4)."""
MAX_OVERLAP_FRACTION = 0.7
"""Periods are searched up to this fraction of the frame's sides."""
MIN_SIDE = 16
"""Pictures smaller than this are refused outright (no tile fits in them)."""
PERIOD_CANDIDATES = 3
REFINE_STEPS = (-0.0015, 0.0, 0.0015)
"""Relative scale offsets tried around each period estimate."""
DECODE_ATTEMPTS = 3
MIN_SYNC_Z = 4.0
"""A hypothesis whose pilot peak is below this z-score is not decoded."""
_SPECTRUM_SMOOTH = 4.0
_AUTO_BASELINE = 4.0
_PERIOD_STEP = 0.004
"""Relative step of the coarse period search (then refined 10x finer)."""
_PERIOD_MIN_SCORE = 3.0
_WHITEN_SIDE = 360
_WHITEN_RANGE = 3.0
"""Bilateral range sigma, in luma levels: about the mark's amplitude."""
_WHITEN_ENERGY = 2.0
_WHITEN_FLOOR = 1.0
_WHITEN_CLIP = 3.0


@dataclass(frozen=True)
class Detection:
    """What a detector found."""

    present: bool
    """A mark made with this key was decoded and its MAC verified."""
    payload: str | None
    """The payload's hex (:attr:`WatermarkPayload.hex`) when present."""
    confidence: float
    """0..1, see :func:`confidence`: >= 0.5 exactly when present (then how far the
    decoded codeword stands out of the noise), else the pilot-sync evidence alone."""
    frames_used: int
    """Frames the decision was made from (those of the most common size)."""
    bit_accuracy: float | None = None
    """Share of the 64 payload bits decoded right (only when the true payload is given)."""
    raw_bit_accuracy: float | None = None
    """Share of coded bits right before error correction (only with the true payload)."""
    sync_score: float = 0.0
    """z-score of the pilot correlation peak (about 4 on noise)."""
    period: float | None = None
    """Tile period found, in pixels of the frames given."""


@dataclass(frozen=True)
class _Hypothesis:
    scale: float
    z: float
    tile: NDArray[np.float32]
    """The folded tile, rolled so it is aligned with the key's grid."""


class WatermarkDetector:
    """Accumulates frames and reads the watermark of one key.

    Frames may be any size (cropped, rescaled); frames of one video share one size,
    and if sizes differ the most frequent size is used.
    """

    def __init__(self, key: WatermarkKey) -> None:
        self.key = key
        self._layout = chip_layout(key)
        pilot = render_tile(self._layout.pilot_chips(), CANONICAL_CELL_PX)
        self._pilot_conj = np.conj(scipy.fft.rfft2(pilot))
        self._sums: dict[tuple[int, int], NDArray[np.float32]] = {}
        self._counts: dict[tuple[int, int], int] = {}
        self._factors: dict[tuple[int, int], float] = {}

    @property
    def frames_used(self) -> int:
        return sum(self._counts.values())

    def reset(self) -> None:
        self._sums.clear()
        self._counts.clear()
        self._factors.clear()

    def add_luma(self, y: NDArray[np.generic]) -> None:
        """Accumulate one frame's luma (2-D array, any numeric dtype, any size)."""
        if y.ndim != 2 or min(y.shape) < MIN_SIDE:
            raise ValueError(f"expected a 2-D luma plane of at least {MIN_SIDE}x{MIN_SIDE}, "
                             f"got {y.shape}")
        white, factor = whiten(y)
        shape = (int(y.shape[0]), int(y.shape[1]))
        if shape in self._sums:
            self._sums[shape] += white
            self._counts[shape] += 1
        else:
            self._sums[shape] = white
            self._counts[shape] = 1
            self._factors[shape] = factor

    def add_yuv(self, yuv: NDArray[np.uint8]) -> None:
        """Accumulate a yuv420p array's luma."""
        self.add_luma(yuv[: yuv.shape[0] * 2 // 3])

    def result(self, expected: WatermarkPayload | None = None) -> Detection:
        """Decode from all frames so far; ``expected`` only adds the bit accuracies."""
        if not self._counts:
            return Detection(False, None, 0.0, 0)
        shape = max(self._counts, key=lambda s: self._counts[s])
        frames = self._counts[shape]
        total = self._sums[shape] / np.float32(frames)
        factor = self._factors[shape]
        hypotheses = self._hypotheses(total, factor)
        best: tuple[float, NDArray[np.float64], NDArray[np.uint8], float] | None = None
        for hyp in hypotheses[:DECODE_ATTEMPTS]:
            if hyp.z < MIN_SYNC_Z and best is not None:
                break
            soft = self._soft_bits(hyp.tile)
            message = viterbi_decode(soft, MESSAGE_BITS)
            payload = parse_message(message, self.key)
            period = TILE / hyp.scale * factor
            if payload is not None:
                conf = confidence(True, codeword_correlation(soft, message), hyp.z)
                log.debug("watermark %s found: sync z %.1f, period %.1f px, confidence %.2f",
                          payload.hex, hyp.z, period, conf)
                return self._detection(True, payload, conf, frames, soft, message,
                                       expected, hyp.z, period)
            if best is None:
                best = (hyp.z, soft, message, period)
        if best is None:
            return Detection(False, None, 0.0, frames)
        z, soft, message, period = best
        conf = confidence(False, codeword_correlation(soft, message), z)
        return self._detection(False, None, conf, frames, soft, message, expected, z, period)

    def _detection(self, present: bool, payload: WatermarkPayload | None, confidence: float,
                   frames: int, soft: NDArray[np.float64], message: NDArray[np.uint8],
                   expected: WatermarkPayload | None, z: float, period: float) -> Detection:
        bit_accuracy = raw_accuracy = None
        if expected is not None:
            truth = expected.message_bits(self.key)
            bit_accuracy = float(np.mean(message[:PAYLOAD_BITS] == truth[:PAYLOAD_BITS]))
            coded = conv_encode(truth)
            raw_accuracy = float(np.mean((soft > 0) == (coded == 1)))
        return Detection(present=present, payload=payload.hex if payload else None,
                         confidence=float(confidence), frames_used=frames,
                         bit_accuracy=bit_accuracy, raw_bit_accuracy=raw_accuracy,
                         sync_score=float(z), period=float(period))

    # -- sync --------------------------------------------------------------------------

    def _hypotheses(self, total: NDArray[np.float32], factor: float) -> list[_Hypothesis]:
        """(scale, phase) hypotheses, best pilot correlation first.

        Periods come from the autocorrelation (any rescale), plus the exact periods
        an unscaled frame of about this size has (cells are whole pixels), which
        covers the common case of a re-encode or crop even when the
        autocorrelation is too weak to show them.
        """
        out: list[_Hypothesis] = []
        for period in tile_periods(total):
            tried = [self._sync(total, TILE / period * (1.0 + step)) for step in REFINE_STEPS]
            out.append(max(tried, key=lambda h: h.z))
        h, w = total.shape
        cell = cell_px_for(round(w * factor), round(h * factor))
        for c in range(max(MIN_CELL_PX, cell - 1), cell + 2):
            out.append(self._sync(total, CANONICAL_CELL_PX * factor / c))
        return sorted(out, key=lambda h: -h.z)

    def _sync(self, total: NDArray[np.float32], scale: float) -> _Hypothesis:
        tile = fold(rescale(total, scale))
        corr = scipy.fft.irfft2(scipy.fft.rfft2(tile) * self._pilot_conj, s=tile.shape)
        peak = int(np.argmax(corr))
        dy, dx = divmod(peak, TILE)
        spread = float(corr.std())
        z = (float(corr.flat[peak]) - float(corr.mean())) / spread if spread > 0 else 0.0
        aligned = np.roll(tile, (-dy, -dx), axis=(0, 1))
        return _Hypothesis(scale=scale, z=z, tile=aligned)

    def _soft_bits(self, aligned: NDArray[np.float32]) -> NDArray[np.float64]:
        matched = wrap_blur(aligned, BLUR_PER_CELL * CANONICAL_CELL_PX)
        cells = matched.reshape(CELLS, CANONICAL_CELL_PX, CELLS, CANONICAL_CELL_PX).sum((1, 3))
        return self._layout.soft_bits(cells)


def whiten(y: NDArray[np.generic]) -> tuple[NDArray[np.float32], float]:
    """The frame's residual at the pattern's scale, normalised by its local energy.

    Big frames are first shrunk (by the factor returned) to about 360 lines:
    the pattern's cells are then about 4 px, all the detector needs, and the
    edge-preserving filter below costs a few ms instead of tens.
    """
    yf = np.asarray(y, np.float32)
    factor = 1.0
    if min(yf.shape) > _WHITEN_SIDE * 1.2:
        h0, w0 = yf.shape
        factor = min(h0, w0) / _WHITEN_SIDE
        size = (max(1, round(w0 / factor)), max(1, round(h0 / factor)))
        yf = np.asarray(cv2.resize(yf, size, interpolation=cv2.INTER_AREA), np.float32)
        factor = w0 / size[0]
    cell = min(yf.shape) / CELLS_PER_SIDE
    # Edge-preserving smoothing keeps the picture (edges, shading) and drops the
    # few-level pattern, so the residual is mostly mark; a linear high-pass would
    # leave every edge in it.
    smooth = cv2.bilateralFilter(yf, int(2 * cell + 1) | 1, _WHITEN_RANGE, 1.5 * cell)
    residual = yf - smooth
    energy = cv2.GaussianBlur(residual * residual, (0, 0), _WHITEN_ENERGY * cell)
    white = residual / (cv2.sqrt(energy) + _WHITEN_FLOOR)
    return np.clip(white, -_WHITEN_CLIP, _WHITEN_CLIP, out=white), factor


def tile_periods(total: NDArray[np.float32]) -> list[float]:
    """Candidate repetition periods (pixels) of a whitened sum, most likely first.

    The power spectrum is whitened (divided by its own local average) before the
    autocorrelation, so what remains is periodicity rather than the picture's
    spectral slope; the autocorrelation is then turned into z-scores. A period ``T``
    is scored on its whole lattice: the z-scores at every lag ``(k T, l T)`` that
    fits in the frame, summed over sqrt(count). Harmonics lose (``2T`` has a
    quarter of the points, ``T/2`` has three noise points for each peak), and the
    many points pin ``T`` down to a fraction of a percent.
    """
    z = _autocorrelation_z(total)
    my, mx = (z.shape[0] - 1) // 2, (z.shape[1] - 1) // 2
    top = float(max(mx, my))
    if top <= MIN_PERIOD * 1.5:
        return []
    coarse = np.exp(np.arange(math.log(MIN_PERIOD), math.log(top), _PERIOD_STEP))
    scores = _lattice_scores(z, coarse)
    order = np.argsort(-scores)
    periods: list[float] = []
    for i in order:
        if scores[i] < _PERIOD_MIN_SCORE or len(periods) >= PERIOD_CANDIDATES:
            break
        t = float(coarse[i])
        if any(abs(t - p) < 0.03 * p for p in periods):
            continue
        fine = t * np.exp(np.linspace(-_PERIOD_STEP, _PERIOD_STEP, 21))
        periods.append(float(fine[int(np.argmax(_lattice_scores(z, fine)))]))
    return periods


def _autocorrelation_z(total: NDArray[np.float32]) -> NDArray[np.float32]:
    """Spectrally whitened autocorrelation, lags ``-0.7 side .. 0.7 side`` centred, in z."""
    h, w = total.shape
    fh, fw = scipy.fft.next_fast_len(2 * h), scipy.fft.next_fast_len(2 * w)
    power = (np.abs(scipy.fft.rfft2(total, s=(fh, fw), workers=-1)) ** 2).astype(np.float32)
    smooth = cv2.GaussianBlur(power, (0, 0), _SPECTRUM_SMOOTH)
    white = power / (smooth + np.float32(1e-6 * float(smooth.mean()) + 1e-30))
    auto = scipy.fft.irfft2(white, s=(fh, fw), workers=-1).astype(np.float32)
    my, mx = int(h * MAX_OVERLAP_FRACTION), int(w * MAX_OVERLAP_FRACTION)
    rows = np.r_[fh - my:fh, 0:my + 1]
    cols = np.r_[fw - mx:fw, 0:mx + 1]
    window = auto[np.ix_(rows, cols)]
    overlap = np.outer(h - np.abs(np.arange(-my, my + 1)), w - np.abs(np.arange(-mx, mx + 1)))
    window = window / overlap.astype(np.float32)
    window[my, mx] = 0.0
    detail = window - cv2.GaussianBlur(window, (0, 0), _AUTO_BASELINE)
    mad = float(np.median(np.abs(detail)))
    return np.asarray(detail / (1.4826 * mad), np.float32) if mad > 0 else detail * 0


def _lattice_scores(z: NDArray[np.float32], periods: NDArray[np.float64]) -> NDArray[np.float64]:
    """For each period, the sum of ``z`` over its lattice points (one half-plane) / sqrt(n)."""
    my, mx = (z.shape[0] - 1) // 2, (z.shape[1] - 1) // 2
    ys: list[NDArray[np.float64]] = []
    xs: list[NDArray[np.float64]] = []
    counts = np.zeros(periods.size, np.int64)
    for i, t in enumerate(periods):
        nk, nl = int(mx // t), int(my // t)
        kk = np.tile(np.arange(-nk, nk + 1, dtype=np.float64), nl + 1)[nk + 1:]
        ll = np.repeat(np.arange(nl + 1, dtype=np.float64), 2 * nk + 1)[nk + 1:]
        ys.append(ll * t + my)
        xs.append(kk * t + mx)
        counts[i] = kk.size
    if not counts.any():
        return np.zeros(periods.size)
    values = scipy.ndimage.map_coordinates(z, [np.concatenate(ys), np.concatenate(xs)],
                                           order=1, mode="constant")
    # bincount by period, not reduceat: periods with no lattice point (longer than the
    # frame allows) may come last, and reduceat rejects an offset equal to the length.
    owner = np.repeat(np.arange(periods.size), counts)
    sums = np.bincount(owner, weights=values, minlength=periods.size)
    return np.asarray(sums / np.sqrt(np.maximum(counts, 1)), np.float64)


def rescale(image: NDArray[np.float32], scale: float) -> NDArray[np.float32]:
    """Resample by exactly ``scale`` (``cv2.resize`` with ``fx`` maps by the factor given,
    not by the rounded output size); area-averaged when shrinking."""
    if abs(scale - 1.0) < 1e-9:
        return image
    method = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    out = cv2.resize(image, None, fx=scale, fy=scale, interpolation=method)
    return np.asarray(out, np.float32)


def fold(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Add all ``TILE x TILE`` tiles of an image into one (zero-padding the last ones)."""
    h, w = image.shape
    ph, pw = -(-h // TILE) * TILE, -(-w // TILE) * TILE
    padded = np.zeros((ph, pw), np.float32)
    padded[:h, :w] = image
    return np.asarray(padded.reshape(ph // TILE, TILE, pw // TILE, TILE).sum(axis=(0, 2)),
                      np.float32)


def codeword_correlation(soft: NDArray[np.float64], message: NDArray[np.uint8]) -> float:
    """Normalised correlation of the soft values with the decoded codeword's ±1 signs.

    About 0.56 on noise (Viterbi always finds the codeword that fits noise best),
    0.7 where decoding starts to be reliable, above 0.9 for a clean mark.
    """
    signs = 2.0 * conv_encode(message).astype(np.float64) - 1.0
    norm = float(np.linalg.norm(soft))
    return float(soft @ signs) / (norm * math.sqrt(CODED_BITS)) if norm > 0 else 0.0


def confidence(present: bool, rho: float, sync_z: float) -> float:
    """One 0..1 number: at least 0.5 exactly when a mark was verified (MAC), and how solid.

    Verified: 0.5 plus half the codeword correlation's position between "just
    decodable" and "clean". Not verified: below 0.5, from the pilot sync alone, so
    a mark of this key that is too damaged to read still shows (noise gives ~0).
    """
    if present:
        margin = (rho - _RHO_DECODABLE) / (_RHO_CLEAN - _RHO_DECODABLE)
        return 0.5 + 0.5 * float(np.clip(margin, 0.0, 1.0))
    sync = (sync_z - _Z_NOISE) / (_Z_SOLID - _Z_NOISE)
    return 0.49 * float(np.clip(sync, 0.0, 1.0))


_RHO_DECODABLE = 0.65
_RHO_CLEAN = 0.92
_Z_NOISE = 5.5
"""Pilot z-scores below this are what noise gives (the maximum of ~50k correlations)."""
_Z_SOLID = 10.0


def detect_lumas(lumas: Iterable[NDArray[np.generic]], key: WatermarkKey,
                 expected: WatermarkPayload | None = None) -> Detection:
    """Detect over luma planes; with ``expected`` the bit accuracies are filled in (tests,
    benchmarks)."""
    detector = WatermarkDetector(key)
    for y in lumas:
        detector.add_luma(y)
    return detector.result(expected)


MAX_FILE_FRAMES = 600
"""Frames :func:`detect_file` reads at most by default (24 s at 25 fps): enough for a
re-shared clip, and an unmarked 720p file costs about 10 s on two cores."""
FIRST_CHECK = 30
"""Frames read before the first decoding attempt; then checked at every doubling."""
SETTLED_CONFIDENCE = 0.8
"""A verified mark at least this confident ends reading early; a weaker one keeps
reading, since more frames only add evidence."""


def detect_file(path: Path, key: WatermarkKey, max_frames: int | None = MAX_FILE_FRAMES
                ) -> Detection:
    """Read the watermark of a video (or one image), reading only as many frames as needed.

    Frames are accumulated and decoded after 30, 60, 120, ... frames and at the end;
    reading stops at the first verified mark with confidence >= ``SETTLED_CONFIDENCE``,
    at ``max_frames`` (``None``: the whole file) or at the end of the file. A
    re-encoded, downscaled copy often needs more than 30 frames, a clean output one.
    The best verified detection is returned, else the last. Each check is at most
    ``DECODE_ATTEMPTS`` MAC trials, so a full read of an unmarked file (about 6
    checks) passes by chance with probability about 1e-6.
    """
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be positive, got {max_frames}")
    detector = WatermarkDetector(key)
    best: Detection | None = None
    last: Detection | None = None
    next_check = FIRST_CHECK
    with open_input(Path(path)) as container:
        if not container.streams.video:
            raise InputError(f"{path}: has no video stream or image")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if min(frame.width, frame.height) < MIN_SIDE:
                    raise InputError(f"{path}: the picture is {frame.width}x{frame.height}; a "
                                     f"watermark needs at least {MIN_SIDE}x{MIN_SIDE} pixels")
                detector.add_luma(_luma(frame))
                used = detector.frames_used
                last = None
                if used >= next_check or used == max_frames:
                    next_check = 2 * used
                    last = detector.result()
                    best = _better(best, last)
                    if best is not None and best.confidence >= SETTLED_CONFIDENCE:
                        return best
                if used == max_frames:
                    break
        except av.error.FFmpegError as e:
            if not detector.frames_used:
                raise InputError(f"{path}: cannot decode ({ffmpeg_reason(e)})") from e
            log.warning("%s: decoding stopped after %d frames (%s)", path,
                        detector.frames_used, ffmpeg_reason(e))
    if not detector.frames_used:
        raise InputError(f"{path}: contains no decodable frames")
    if last is None:
        last = detector.result()
        best = _better(best, last)
    return best if best is not None else last


def _better(best: Detection | None, new: Detection) -> Detection | None:
    """The more confident of two verified detections (None while none verified)."""
    if not new.present:
        return best
    return new if best is None or new.confidence >= best.confidence else best


def _luma(frame: av.VideoFrame) -> NDArray[np.uint8]:
    """The frame's luma plane (any pixel format; RGB images go through swscale)."""
    if frame.format.name in ("yuv420p", "yuvj420p") and not (frame.width | frame.height) & 1:
        return np.ascontiguousarray(frame.to_ndarray(format="yuv420p")[: frame.height])
    return np.ascontiguousarray(frame.to_ndarray(format="gray"), np.uint8)
