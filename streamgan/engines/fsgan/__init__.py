"""The ``fsgan`` engine: a learned refiner on top of the ``warp`` (FSGAN-style stages).

The warp supplies geometry (the target moved to the driver's landmarks); the network,
trained per person by self-reenactment, supplies the appearance a warp cannot invent:
teeth, lids, light that moves with the head. See :mod:`.engine` for the stages.
"""
