"""vidjax: deep learning on video in JAX/Flax.

Packages: `vidjax.data` (sources, decoding, clip sampling, transforms, Grain
pipelines), `vidjax.models` (Flax linen modules, one family per file),
`vidjax.tasks` (one file per problem), `vidjax.train` (the generic trainer),
`vidjax.metrics`.
"""

__version__ = "0.1.0"
