"""The invisible watermark: a keyed, error-corrected 64-bit payload in every output frame.

Every frame streamgan writes (files and live streams) carries the same payload
(:class:`WatermarkPayload`: format, a random output id, a consent-record hash),
readable only with the key (:class:`WatermarkKey`) and surviving what happens to
videos on the way: re-encoding (H.264 down to CRF 35, H.265, VP8 at low bitrate),
JPEG, downscaling, cropping, brightness changes, and a downscale or crop followed
by a re-encode (as re-shared clips get). Usage::

    key = WatermarkKey.load_or_create()
    embedder = WatermarkEmbedder(key, WatermarkPayload.new(consent_id), width, height)
    embedder.embed(yuv)                           # every frame, in place, ~2.5 ms at 720p
    detect_file(path, key).payload                # later, on a copy found anywhere

Why this design (the numbers are in ``benchmarks/watermark_robustness.py``):

- **Luma, low/mid frequencies, smooth chips.** Codecs and downscaling discard fine
  detail and chroma first. The mark is a grid of smooth ±1 chips, each about 1/90 of
  the frame's shorter side (4 px at 360p, 8 px at 720p), added to Y only.
- **Spread spectrum, keyed.** Each coded bit is spread over a few keyed cells of a
  32x32-cell tile, and the tile is repeated over the whole frame (about 14 times).
  The detector sums all repetitions and all frames, so each bit is decided from
  thousands of pixels: an amplitude of 2 luma levels is plenty. The key decides
  the chip signs and which cell carries which bit (HMAC-SHA256-seeded PRNG), so
  without it the pattern is noise and cannot be read or forged.
- **Synchronisation without the original.** Because the tile repeats, a crop only
  shifts its phase and a rescale only changes its period. The detector finds the
  period from the autocorrelation's lattice, then the phase by FFT correlation
  with a quarter of the cells that are fixed keyed *pilots*.
- **Error correction plus a MAC.** 64 payload bits + a 24-bit keyed MAC go
  through a K=7 rate-1/3 convolutional code decoded by soft Viterbi (282 coded
  bits): the detector's correlations are soft values, so this beats hard-decision
  block codes, and the MAC makes false positives ~1e-7 per detection.
- **Invisible.** The amplitude follows local texture (the eye does not see a few
  levels of change in texture, but does on a flat wall): 1.5 levels peak on flat
  areas, up to 9 in strong texture, 41-44 dB PSNR on face footage.
- **Read until sure.** :func:`detect_file` decodes after 30, 60, 120, ... frames and
  stops at a confident verified mark (a halved, re-encoded copy may need more frames
  than a clean output), or at a cap.
- **Cheap to embed.** The full-frame pattern is computed once per (key, payload,
  size); per frame there is a texture mask at 1/8 resolution and one fused
  multiply-add into the Y plane (about 2.5 ms at 720p on two cores).

Limits: detection needs the embedding key (symmetric: an organisation shares its
key with its checkers); rotation, flips, strong non-uniform resizing (aspect
change) and heavy blur are not handled; a watermark is evidence, not proof, and
someone holding the key can forge it.
"""

from streamgan.safety.watermark_detect import (
    Detection,
    WatermarkDetector,
    detect_file,
    detect_lumas,
)
from streamgan.safety.watermark_embed import WatermarkEmbedder
from streamgan.safety.watermark_key import ENV_WATERMARK_KEY, WatermarkKey
from streamgan.safety.watermark_payload import WatermarkPayload, consent_hash

__all__ = [
    "ENV_WATERMARK_KEY",
    "Detection",
    "WatermarkDetector",
    "WatermarkEmbedder",
    "WatermarkKey",
    "WatermarkPayload",
    "consent_hash",
    "detect_file",
    "detect_lumas",
]
