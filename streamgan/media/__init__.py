"""Media I/O on PyAV: reading videos and images, writing videos atomically."""
