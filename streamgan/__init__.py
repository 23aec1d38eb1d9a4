"""streamgan: face reenactment for video files and live streams, with safety built in."""

import os as _os

# streamgan's matrix work is tiny (3x3 fits, 478x3 products), where a multi-threaded
# BLAS only adds threads that spin after each call: measured here they burned about
# 30 ms of CPU per 720p frame that the encoder and the face tracker needed on two
# cores. A user's own setting wins; it only takes effect if numpy is not loaded yet.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")

__version__ = "0.1.0"
