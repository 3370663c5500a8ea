"""Shared fixtures. Tests run on 8 simulated CPU devices (set before JAX loads).

Tests check results, not speed, so XLA skips most optimizations and a
persistent compilation cache (shared with the subprocesses tests start) lets
the many runs of the same tiny configs compile once.
"""

import atexit
import gc
import os
import shutil
import tempfile

# Per-operation CPU kernels instead of XLA's fusion emitters: with most
# optimizations off (below) they compile the tiny test models' many small
# optimizer and metric ops 15-35% faster (measured on the train steps).
# And each program's machine code in one LLVM module rather than split into
# parts compiled apart: each part repeats per-module work, and with both
# cores busy running tests the parts gain nothing from running in parallel
# (init plus train step of six configs, three runs each: 120.8 s of CPU
# instead of 149.8 s).
_XLA_TEST_FLAGS = ("--xla_cpu_use_fusion_emitters=false "
                   "--xla_cpu_parallel_codegen_split_count=1")
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_force_host_platform_device_count=8 " +
                           _XLA_TEST_FLAGS)
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _JAX_CACHE = tempfile.mkdtemp(prefix="vidjax-test-jax-cache-")
  atexit.register(shutil.rmtree, _JAX_CACHE, ignore_errors=True)
  os.environ["JAX_COMPILATION_CACHE_DIR"] = _JAX_CACHE
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import importlib.util  # pylint: disable=g-import-not-at-top,wrong-import-position
import pathlib

import pytest
from absl import flags

REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIG_FILES = sorted(p for p in (REPO / "configs").rglob("*.py")
                      if p.name not in ("__init__.py", "common.py"))

# Tracing allocates millions of short-lived objects, and with CPython's
# default thresholds the cyclic collector re-scanned every live object (JAX,
# Flax, compiled programs' Python wrappers) every few hundred thousand
# allocations: 12.5 s of 156 s in the classification configs' one-step runs,
# 4.2 s with a larger young generation and the imported modules frozen out
# of the scans (pytest_collection_finish below). Cycles are still collected.
gc.set_threshold(50_000, 20, 20)

# Grain's worker processes read absl flags; pytest never parses them.
if not flags.FLAGS.is_parsed():
  flags.FLAGS.mark_as_parsed()


def load_config(path, arg="tiny"):
  """get_config(arg) of a config file, as launch.py would load it."""
  spec = importlib.util.spec_from_file_location(f"cfg_{path.stem}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
  """One cache of generated videos for the whole session."""
  path = tmp_path_factory.mktemp("vidjax_cache")
  os.environ["VIDJAX_CACHE"] = str(path)
  return path


@pytest.fixture(scope="session")
def tiny_root(cache_dir):
  """The tiny synthetic dataset (the `tiny` variant's spec), on disk."""
  from vidjax.data.sources import synthetic_motion  # pylint: disable=g-import-not-at-top
  from vidjax.data import synthetic  # pylint: disable=g-import-not-at-top
  config = load_config(REPO / "configs" / "quickstart.py")
  spec = synthetic_motion.spec_from_config(config.data)
  return synthetic.ensure_dataset(spec, cache_dir)


def subprocess_env(devices: int) -> dict[str, str]:
  """This process's environment for a launch.py subprocess with `devices`
  simulated CPU devices. It keeps the test settings above (fewer XLA
  optimizations, no fusion emitters, the shared compilation cache): without
  them a multi-process launch compiles its train step 3-4x slower, and
  process 1 never reads the persistent cache (JAX writes and reads it from
  process 0 only), so every launch pays that compile in full."""
  env = dict(os.environ)
  env["XLA_FLAGS"] = (f"--xla_force_host_platform_device_count={devices} " +
                      _XLA_TEST_FLAGS)
  return env


def tiny_config(path=REPO / "configs" / "quickstart.py", arg="tiny",
                cache=None, num_devices=2):
  """A config file's tiny variant, trained on `num_devices` of the 8
  simulated devices. Two by default: still sharded, and each step ~25% less
  CPU than on eight on the CI's two cores (measured on the quickstart's
  8-step runs); the tests of device counts and sharding ask for 8."""
  config = load_config(path, arg)
  config.train.num_devices = num_devices
  if cache is not None:
    config.data.synthetic.cache_dir = str(cache)
  return config


def copy_ucf_dataset(src, dst, extra_train=()):
  """Copies a UCF101-layout dataset; extra_train: (relpath, bytes) to add."""
  shutil.copytree(src, dst)
  with open(pathlib.Path(dst) / "trainlist01.txt", "a") as f:
    for rel, data in extra_train:
      (pathlib.Path(dst) / rel).write_bytes(data)
      cls = rel.split("/")[0]
      classes = (pathlib.Path(dst) / "classInd.txt").read_text().split()
      label = classes[classes.index(cls) - 1]
      f.write(f"{rel} {label}\n")
  return pathlib.Path(dst)


def final_params(workdir):
  """(step, params) of the newest checkpoint in workdir, on this host."""
  from vidjax.train import checkpoint  # pylint: disable=g-import-not-at-top
  step, state = checkpoint.load_state(pathlib.Path(workdir) / "checkpoints")
  return step, state["params"]


def init_and_apply(model, key, *inputs, **apply_kw):
  """A Flax model's variables and its output on `inputs`, as one compiled
  program: eagerly, each operation of init and apply compiles its own."""
  import jax  # pylint: disable=g-import-not-at-top

  @jax.jit
  def run(key, *inputs):
    variables = model.init(key, *inputs)
    return variables, model.apply(variables, *inputs, **apply_kw)

  return run(key, *inputs)


# The longest tests (one to two minutes each) go first, so that with two
# xdist workers neither is left running one of them alone at the end.
_LONGEST_FIRST = ("test_resume.py", "test_multiprocess.py",
                  "test_notebooks.py")


def pytest_collection_finish(session):  # pylint: disable=unused-argument
  """With every test module imported, moves the objects alive now (modules,
  classes, functions) out of the collector's scans."""
  gc.collect()
  gc.freeze()


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
  items.sort(key=lambda item: item.path.name not in _LONGEST_FIRST)
