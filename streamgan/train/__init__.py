"""What every model streamgan trains shares: processes and devices, the training loop,
resumable checkpoints, a moving average of the generator, and the model card."""
