"""The notebooks run top to bottom (at a tiny size) so they cannot rot."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

# What each notebook must show as animations, by a marker in its HTML output:
# matplotlib's JavaScript player for the quickstart's clips, inline GIFs of
# generated samples (GAN, diffusion, diffusion with a label).
ANIMATIONS = {"quickstart.ipynb": ("Animation", 1),
              "enhance_and_generate.ipynb": ("data:image/gif;base64,", 3)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, cache_dir, monkeypatch):
  nb = nbformat.read(path, as_version=4)
  assert all(not cell.get("outputs") for cell in nb.cells
             if cell.cell_type == "code"), "commit notebooks without outputs"
  monkeypatch.setenv("VIDJAX_NOTEBOOK_TINY", "1")
  monkeypatch.setenv("VIDJAX_NOTEBOOK_WORKDIR", str(tmp_path / "workdir"))
  monkeypatch.setenv("VIDJAX_CACHE", str(cache_dir))
  NotebookClient(nb, timeout=600, kernel_name="python3",
                 resources={"metadata": {"path": str(REPO / "notebooks")}}
                 ).execute()
  outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
  assert not [o for o in outputs if o.output_type == "error"]
  assert (tmp_path / "workdir" / "results.json").exists()
  marker, count = ANIMATIONS[path.name]
  html = [o["data"]["text/html"] for o in outputs
          if "text/html" in o.get("data", {})]
  assert sum(marker in h for h in html) == count, [h[:200] for h in html]
