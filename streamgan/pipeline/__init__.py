"""Pipelines compose media I/O, tracking and an engine into jobs (files, streams)."""
