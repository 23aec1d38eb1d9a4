"""Per-frame image-to-image translation (pix2pix, CycleGAN, fast styles) of video."""
