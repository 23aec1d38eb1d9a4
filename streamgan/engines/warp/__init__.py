"""The ``warp`` engine: landmark-driven dense warping, no learned weights."""
