"""streamgan: face reenactment for video files and live streams, with safety built in."""

__version__ = "0.1.0"
