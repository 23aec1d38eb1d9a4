"""Safety built in: an invisible watermark on every output frame, a signed C2PA
provenance manifest on every file, and consent tags required of every target face."""
