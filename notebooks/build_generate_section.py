"""Cells of the generation section of `enhance_and_generate.ipynb`.

The notebook is assembled from sections; this one trains the video GAN and
the diffusion model briefly (tiny when VIDJAX_NOTEBOOK_TINY is set, as in
the tests), samples them with `vidjax.generate` and shows the samples as
animated GIFs. `generation_cells()` returns the nbformat cells;
`python notebooks/build_generate_section.py OUT.ipynb` writes them as a
notebook of their own (to try the section alone).
"""

from __future__ import annotations

import sys

import nbformat

SETUP = '''\
import os, pathlib, sys
if not pathlib.Path("configs").is_dir() and pathlib.Path("../configs").is_dir():
  os.chdir("..")  # run from notebooks/: the repository root holds configs/
sys.path.insert(0, os.getcwd())
from IPython.display import HTML, display
from vidjax import generate
from vidjax.train import trainer
from configs.generation import diffusion_synthetic, gan_synthetic

TINY = bool(os.environ.get("VIDJAX_NOTEBOOK_TINY"))
WORK = pathlib.Path(os.environ.get("VIDJAX_NOTEBOOK_WORKDIR",
                                   "/tmp/vidjax_notebook"))
GEN_WORK = WORK.parent / (WORK.name + "_generation")
arg = "tiny" if TINY else "steps=300"'''

TRAIN = '''\
runs = {}
for name, module in (("gan", gan_synthetic), ("diffusion", diffusion_synthetic)):
  config = module.get_config(arg)
  config.logging.progress_bar = False
  runs[name] = trainer.train_and_evaluate(config, str(GEN_WORK / name))
  print(name, runs[name]["eval"])'''

SAMPLE = '''\
def show(name, **kwargs):
  out = GEN_WORK / f"{name}.mp4"
  generate.main(["--checkpoint", str(GEN_WORK / name), "--num", "8",
                 "--output", str(out)] +
                [f"--{k}={v}" for k, v in kwargs.items()])
  import base64
  data = base64.b64encode(out.with_suffix(".gif").read_bytes()).decode()
  display(HTML(f'<p>{name} {kwargs}</p><img src="data:image/gif;base64,{data}">'))

show("gan")
show("diffusion", steps=2 if TINY else 25)
show("diffusion", label="MoveUp", steps=2 if TINY else 25, guidance=3.0)'''


def generation_cells() -> list:
  md = nbformat.v4.new_markdown_cell
  code = nbformat.v4.new_code_cell
  return [
      md("## Generating video\n\nA class-conditional video GAN (factorized "
         "space-time generator, clip and frame discriminators, hinge loss "
         "with R1) and a diffusion model (factorized 3D U-Net, "
         "v-prediction, DDIM sampling with classifier-free guidance), "
         "trained briefly on the synthetic motion clips. Each grid row "
         "cycles through the classes; with `label=` every clip is asked "
         "for one class."),
      code(SETUP), code(TRAIN), code(SAMPLE),
  ]


if __name__ == "__main__":
  nb = nbformat.v4.new_notebook()
  nb.cells = generation_cells()
  nbformat.write(nb, sys.argv[1] if len(sys.argv) > 1 else
                 "generate_section.ipynb")
