"""The generic trainer: state, sharding, optimizer, checkpoints, logging."""
