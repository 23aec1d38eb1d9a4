"""Applications built on the streamgan library (installed beside it)."""
