"""Video data: sources, decoding, clip sampling, transforms, Grain pipelines.

Nothing in this package imports jax: Grain worker processes import it.
"""
