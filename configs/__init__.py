"""Experiment configs: `get_config(arg)` in each file; see common.py."""
