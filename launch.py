"""Train and evaluate a vidjax config.

  python launch.py --config configs/quickstart.py --workdir /tmp/vidjax_quickstart

--config names a config file; text after a colon is its variant argument
(configs/classification/vivit_synthetic.py:tiny). Any field can be
overridden with --config.<field>=<value>, e.g. --config.train.num_steps=100
or --config.data.num_workers=0; a misspelt field is an error. Running again
on the same --workdir resumes from its newest checkpoint. The workdir
receives metrics.jsonl, TensorBoard events, checkpoints/, results.json,
curves.png and the task's plots.

For multi-process training, run this on every host: on a TPU pod slice or
under SLURM the processes find each other by themselves; elsewhere pass
--coordinator_address=HOST:PORT --num_processes=N --process_id=I.

On SIGTERM (a preemption notice) every process saves a checkpoint at the same
step, waits for it, and exits 0; the same command then continues the run.
"""

import logging as std_logging

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file (with an optional ':variant').",
    lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Folder for checkpoints, logs and results; reused to "
    "resume.")
_DISTRIBUTED = flags.DEFINE_enum(
    "distributed", "auto", ["auto", "on", "off"],
    "Join a multi-process job: auto = when detected or a coordinator is "
    "given.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None, "HOST:PORT of process 0, for multi-process "
    "runs outside TPU/SLURM.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None,
                                      "Number of processes in the job.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None,
                                   "Index of this process in the job.")


class _QuietLibraries(std_logging.Filter):
  """Hides the INFO chatter of Orbax and Grain; their warnings still show."""

  def filter(self, record):
    noisy = ("/orbax/" in record.pathname or "/grain/" in record.pathname)
    return record.levelno >= std_logging.WARNING or not noisy


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  logging.get_absl_handler().addFilter(_QuietLibraries())
  # Imported here so `--help` answers without loading JAX.
  import jax  # pylint: disable=g-import-not-at-top
  from vidjax.train import distributed  # pylint: disable=g-import-not-at-top
  from vidjax.train import report  # pylint: disable=g-import-not-at-top
  from vidjax.train import trainer  # pylint: disable=g-import-not-at-top

  distributed.initialize(_DISTRIBUTED.value, _COORDINATOR.value,
                         _NUM_PROCESSES.value, _PROCESS_ID.value)
  results = trainer.train_and_evaluate(_CONFIG.value, _WORKDIR.value)
  if results.get("preempted"):
    # Exit 0 so a scheduler treats the job as cleanly stopped; running the
    # same command again resumes from the checkpoint just saved.
    return
  if jax.process_index() == 0:
    print(report.summary_table(results), flush=True)


if __name__ == "__main__":
  flags.mark_flags_as_required(["config", "workdir"])
  app.run(main)
