"""Metrics: jittable per-batch parts and host-side finalization."""
