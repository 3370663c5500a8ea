"""Writes notebooks/enhance_and_generate.ipynb (without outputs).

  python scripts/build_enhance_and_generate_notebook.py

The notebook is built from the cell lists below so it can be reviewed and
extended as code: the enhancement section, then the generation section (same
conventions: TINY, WORKDIR, `train` and `show` are defined by the shared
set-up cells). Cell ids are numbered, so rebuilding an unchanged notebook
changes nothing. tests/test_notebooks.py runs the notebook with
VIDJAX_NOTEBOOK_TINY=1.
"""

from __future__ import annotations

import pathlib

import nbformat

REPO = pathlib.Path(__file__).resolve().parents[1]
OUT = REPO / "notebooks" / "enhance_and_generate.ipynb"


def md(text: str):
  return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str):
  return nbformat.v4.new_code_cell(text.strip())


SETUP_CELLS = [
    md("""
# vidjax: enhancing and generating video

Models that make video rather than label it, trained by the same generic
trainer as the classifiers:

1. **Denoising** — DnCNN (per frame) and FastDVDnet (5-frame windows, noise map input).
2. **Super-resolution** — ESPCN, EDSR and BasicVSR (recurrent, learned flow) at x2/x4.
3. **Style transfer** — a feed-forward network with Gram losses and a temporal consistency loss.
4. **Applying a model to a video file** with `vidjax.enhance`.
5. **Generating video** — a video GAN and a diffusion model, sampled with `vidjax.generate`.

Each section trains briefly on the synthetic motion videos and shows frames
before and after side by side. The README's results table comes from longer
runs of `scripts/enhancement_table.py`.
"""),
    code("""
# Set-up: on Colab, clone the repository and install the pinned stack.
import os, sys, pathlib

REPO_URL = "https://github.com/vidjax/vidjax.git"  # this repository's clone URL
if "google.colab" in sys.modules and not pathlib.Path("vidjax/launch.py").exists():
    !git clone -q {REPO_URL} vidjax
    !pip install -q -r vidjax/requirements.txt
if pathlib.Path("vidjax/launch.py").exists():
    os.chdir("vidjax")
elif pathlib.Path("../launch.py").exists():
    os.chdir("..")
sys.path.insert(0, os.getcwd())

from absl import flags
flags.FLAGS.mark_as_parsed()  # Grain workers read absl flags
"""),
    code("""
# TINY=1 (set by the test suite) shrinks everything to seconds.
TINY = os.environ.get("VIDJAX_NOTEBOOK_TINY") == "1"
WORKDIR = os.environ.get("VIDJAX_NOTEBOOK_WORKDIR", "/tmp/vidjax_enhance_notebook")
STEPS = 2 if TINY else 300

import importlib.util
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from vidjax.train import trainer


def load_config(path, arg=""):
    spec = importlib.util.spec_from_file_location("cfg", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(",".join(a for a in (arg, "tiny" if TINY else "") if a))


def train(path, workdir, arg="", **data):
    # A short run of the config; returns the Trainer (task, trained state) and results.
    config = load_config(path, arg)
    config.train.num_steps = STEPS
    config.data.update(**data)
    config.logging.progress_bar = False
    run = trainer.Trainer(config, workdir)
    return run, run.run()


def show(images, titles, scale=2.0):
    # Frames [H, W, 3] in [0, 1] side by side (smaller ones enlarged by pixel repetition).
    h = max(np.shape(i)[0] for i in images)
    fig, axes = plt.subplots(1, len(images), figsize=(scale * len(images), scale))
    for ax, img, title in zip(np.atleast_1d(axes), images, titles):
        img = np.asarray(img, np.float32)
        f = h // img.shape[0]
        ax.imshow(np.clip(np.repeat(np.repeat(img, f, 0), f, 1), 0, 1), interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    plt.show()


print("JAX", jax.__version__, "devices:", jax.devices())
"""),
]

ENHANCEMENT_CELLS = [
    md("""
## 1. Denoising

DnCNN predicts the noise of each frame and subtracts it. Training draws a
noise level per clip (sigma 5-55 on the 0-255 scale); evaluation reports PSNR
and SSIM at sigma 10/20/30/40/50 (the DAVIS protocol), against the noisy input.
The `zero_init` variant starts the noise branch's last convolution at zero, so
the untrained model is the identity and a short run starts from its input
(the README's enhancement table compares it with the paper's initialization).
"""),
    code("""
denoise_run, denoise_results = train("configs/denoising/dncnn_synthetic.py", WORKDIR,
                                     arg="zero_init")
ev = denoise_results["eval"]
for s in denoise_run.config.task.eval_sigmas:
    print(f"sigma {s:g}: noisy {ev[f'psnr_noisy_s{s:g}']:.2f} dB -> denoised {ev[f'psnr_s{s:g}']:.2f} dB")
"""),
    code("""
from vidjax.data import pipeline
from vidjax.tasks import denoising

# One test clip, noise of sigma 30, through the trained model.
test_batch = next(iter(denoise_run.eval_dataset))
clean = jnp.asarray(test_batch["video"][:1])
task, state = denoise_run.task, denoise_run.state
noisy = task.simulate(clean, jax.random.key(0), sigma=30.0)
denoised = task.enhance(task.eval_params(state), state.model_state, noisy, sigma=30.0)
t = clean.shape[1] // 2
show([np.clip(noisy[0, t], 0, 1), denoised[0, t], clean[0, t]],
     ["noisy (sigma 30)", "DnCNN", "clean"])
"""),
    md("""
## 2. Super-resolution

The low-resolution input is made by one documented degradation
(`vidjax.ops.resize.degrade`: bicubic with antialiasing, 8-bit), the same in
training and evaluation; the baseline is bicubic upsampling of that input.
ESPCN learns the upsampling with a sub-pixel convolution (pixel shuffle); its
`residual` variant adds the bicubic upsampling to it and starts at bicubic.
"""),
    code("""
sr_run, sr_results = train("configs/super_resolution/espcn_synthetic.py",
                           os.path.join(WORKDIR, "espcn_x2"), arg="x2,residual")
ev = sr_results["eval"]
print(f"x2: ESPCN {ev['psnr']:.2f} dB, bicubic {ev['psnr_bicubic']:.2f} dB (gain {ev['psnr_gain']:+.2f} dB)")

from vidjax.ops import resize
task, state = sr_run.task, sr_run.state
hr = jnp.asarray(next(iter(sr_run.eval_dataset))["video"][:1])
lr = task.simulate(hr, jax.random.key(0))
out = task.enhance(task.eval_params(state), state.model_state, lr)
bicubic = resize.upsample(lr, 2)
t = hr.shape[1] // 2
show([lr[0, t], bicubic[0, t], out[0, t], hr[0, t]], ["input (x1/2)", "bicubic", "ESPCN", "original"])
"""),
    md("""
## 3. Style transfer with temporal consistency

The style network is trained with Gram-matrix style and feature content
losses from a fixed feature network (random, not downloaded: see
`vidjax/tasks/style_transfer.py`), plus a temporal loss: stylising a moved
frame must equal moving the stylised frame. `warp_error` measures that.
"""),
    code("""
style_run, style_results = train("configs/style_transfer/style_net_synthetic.py",
                                 os.path.join(WORKDIR, "style"))
ev = style_results["eval"]
print(f"style loss {ev['style_loss']:.3f}, content loss {ev['content_loss']:.3f}, warping error {ev['warp_error']:.5f}")
task, state = style_run.task, style_run.state
video = jnp.asarray(next(iter(style_run.eval_dataset))["video"][:1])
styled = task.enhance(task.eval_params(state), state.model_state, video)
show([video[0, 0], styled[0, 0], video[0, -1], styled[0, -1], task.style],
     ["frame 0", "stylised", "frame 1", "stylised", "style image"])
"""),
    md("""
## 4. Enhancing a video file

`python -m vidjax.enhance --config ... --checkpoint WORKDIR --input in.mp4 --output out.mp4`
decodes the file, processes it in overlapping temporal windows, and writes
the result at the input's frame rate with its audio track. `--simulate`
first applies the task's degradation (here: noise of sigma 30), and
`--side_by_side` writes input and output next to each other. The same as a
function call:
"""),
    code("""
from vidjax import enhance
from vidjax.data.decode import open_video

video_in = str(next(pathlib.Path(denoise_run.train_source.root).rglob("*.mp4")))
video_out = os.path.join(WORKDIR, "denoised_side_by_side.mp4")
summary = enhance.enhance_file(denoise_run.config, WORKDIR, video_in, video_out,
                               options={"sigma": 30}, simulate=True, side_by_side=True)
print(summary)
with open_video(video_out) as reader:
    frames = reader.read([0, reader.info.num_frames - 1])
show([frames[0] / 255, frames[1] / 255], ["first frame: noisy | denoised", "last frame"], scale=4)
"""),
]

GENERATION_CELLS = [
    md("""
## 5. Generating video

A class-conditional video GAN (factorized space-time generator, clip and frame
discriminators, hinge loss with R1, an EMA of the generator) and a diffusion
model (factorized 3D U-Net, v-prediction, DDIM sampling with classifier-free
guidance), trained by the same trainer. `python -m vidjax.generate` samples a
trained workdir and writes the clips as a grid video and a GIF; each grid row
cycles through the classes, and `--label` asks every clip for one class. A few
hundred steps give blurry moving blobs; the README's generation table (Fréchet
distances against a shuffled-frames baseline) comes from
`scripts/generation_table.py`.
"""),
    code("""
from vidjax import generate

gan_run, gan_results = train("configs/generation/gan_synthetic.py",
                             os.path.join(WORKDIR, "gan"))
diffusion_run, diffusion_results = train("configs/generation/diffusion_synthetic.py",
                                         os.path.join(WORKDIR, "diffusion"))
print("GAN:", gan_results["eval"])
print("diffusion:", diffusion_results["eval"])
"""),
    code("""
import base64
from IPython.display import HTML, display


def animate(run, name, **options):
    # The command-line tool, called in-process; its GIF plays inline.
    out = os.path.join(WORKDIR, f"{name}.mp4")
    argv = ["--checkpoint", run.workdir, "--num", "8", "--output", out]
    assert generate.main(argv + [f"--{k}={v}" for k, v in options.items()]) == 0
    gif = base64.b64encode(pathlib.Path(out).with_suffix(".gif").read_bytes()).decode()
    display(HTML(f'<p><b>{name}</b> {options}</p><img src="data:image/gif;base64,{gif}">'))


ddim_steps = 2 if TINY else 25
animate(gan_run, "gan")
animate(diffusion_run, "diffusion", steps=ddim_steps)
animate(diffusion_run, "diffusion_MoveUp", label="MoveUp", steps=ddim_steps, guidance=3.0)
"""),
]


def build() -> nbformat.NotebookNode:
  nb = nbformat.v4.new_notebook()
  nb.cells = SETUP_CELLS + ENHANCEMENT_CELLS + GENERATION_CELLS
  for i, cell in enumerate(nb.cells):
    cell["id"] = f"cell-{i:02d}"
  nb.metadata["kernelspec"] = {"display_name": "Python 3",
                               "language": "python", "name": "python3"}
  nb.metadata["colab"] = {"provenance": []}
  return nb


if __name__ == "__main__":
  nbformat.write(build(), OUT)
  print(f"wrote {OUT}")
