"""``streamgan serve``: a live webcam filter in the browser, over WebRTC.

The browser sends its camera; each peer gets its own :class:`ReenactSession` (or only
the watermark, for the ``none`` filter) running on its own two worker threads, and
the processed, watermarked video is sent back. Only consented targets can be used.
"""

from apps.webrtc.server import ServeSettings, build_app, create_app, serve
from apps.webrtc.targets import TargetCatalog, load_catalog

__all__ = ["ServeSettings", "TargetCatalog", "build_app", "create_app", "load_catalog", "serve"]
