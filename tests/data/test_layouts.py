"""Every dataset layout reader against annotation files in its official format.

The fixture files copy the exact conventions of the real releases: column
order, 1-based indices, CRLF line ends (UCF101 ships them), header lines,
JSON keys. Video files are empty placeholders where a reader only needs
their names; frame folders hold real JPEGs and are decoded.
"""

import json

import ml_collections
import numpy as np
import pytest
from PIL import Image

from vidjax.data import pipeline
from vidjax.data.sources import csv as csv_source
from vidjax.data.sources import hmdb51
from vidjax.data.sources import kinetics
from vidjax.data.sources import make_source
from vidjax.data.sources import something_something_v2 as ssv2
from vidjax.data.sources import ucf101


def _touch(path):
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_bytes(b"")
  return path


# -- UCF101 --------------------------------------------------------------------

UCF_CLASSES = ("ApplyEyeMakeup", "Basketball", "YoYo")


def _write_ucf(root, ann):
  """Three folds; group g of every class is a test group of fold g."""
  ann.mkdir(parents=True, exist_ok=True)
  (ann / "classInd.txt").write_bytes("".join(
      f"{i} {c}\r\n" for i, c in enumerate(UCF_CLASSES, start=1)).encode())
  for fold in (1, 2, 3):
    train, test = [], []
    for i, c in enumerate(UCF_CLASSES, start=1):
      for g in (1, 2, 3):
        rel = f"{c}/v_{c}_g{g:02d}_c01.avi"
        _touch(root / rel)
        if g == fold:
          test.append(f"{rel}\r\n")
        else:
          train.append(f"{rel} {i}\r\n")
    (ann / f"trainlist{fold:02d}.txt").write_bytes("".join(train).encode())
    (ann / f"testlist{fold:02d}.txt").write_bytes("".join(test).encode())


@pytest.mark.parametrize("fold", [1, 2, 3])
def test_ucf101_all_three_folds(tmp_path, fold):
  root, ann = tmp_path / "UCF-101", tmp_path / "ucfTrainTestlist"
  _write_ucf(root, ann)
  data = ml_collections.ConfigDict(dict(
      source="ucf101", root=str(root), annotations_dir=str(ann), fold=fold))
  train, test = make_source(data, "train"), make_source(data, "test")
  assert train.class_names == UCF_CLASSES
  assert len(train) == 6 and len(test) == 3
  assert [r["label"] for r in test.records] == [0, 1, 2]
  assert all(f"_g{fold:02d}_" in r["path"] for r in test.records)
  assert not any(f"_g{fold:02d}_" in r["path"] for r in train.records)
  assert train.records[0]["path"] == str(
      root / "ApplyEyeMakeup" / f"v_ApplyEyeMakeup_g{1 if fold != 1 else 2:02d}_c01.avi")
  assert sorted(r["video_id"] for r in train.records) == list(range(6))


# -- HMDB51 --------------------------------------------------------------------


def _write_hmdb(root, ann):
  """Per class and fold: 1 = train, 2 = test, 0 = unused (with the trailing
  space the release's files have)."""
  ann.mkdir(parents=True, exist_ok=True)
  classes = ("brush_hair", "cartwheel", "wave")
  for c in classes:
    for fold in (1, 2, 3):
      lines = []
      for v in range(4):
        name = f"{c}_clip{v}_u_nm_np1_ba_goo_{v}.avi"
        _touch(root / c / name)
        flag = [1, 2, 0, 1][(v + fold) % 4]
        lines.append(f"{name} {flag} \n")
      (ann / f"{c}_test_split{fold}.txt").write_text("".join(lines))
  return classes


@pytest.mark.parametrize("fold", [1, 2, 3])
def test_hmdb51_flags_per_fold(tmp_path, fold):
  root, ann = tmp_path / "hmdb51", tmp_path / "testTrainMulti_7030_splits"
  classes = _write_hmdb(root, ann)
  train = hmdb51.load(root, "train", fold, ann)
  test = hmdb51.load(root, "test", fold, ann)
  assert train.class_names == classes
  # flags [1, 2, 0, 1] rotated by the fold: two train, one test, one unused
  assert len(train) == 2 * 3 and len(test) == 3
  for r in test.records:
    v = int(r["path"].split("_clip")[1][0])
    assert [1, 2, 0, 1][(v + fold) % 4] == 2
    assert r["path"].startswith(str(root / classes[r["label"]]))
  used = {r["path"] for r in train.records} | {r["path"] for r in test.records}
  assert len(used) == 9  # the 0-flagged videos are in neither split


def test_hmdb51_bad_flag_names_the_line(tmp_path):
  root, ann = tmp_path / "v", tmp_path / "a"
  _write_hmdb(root, ann)
  (ann / "wave_test_split1.txt").write_text("x.avi 7\n")
  with pytest.raises(ValueError, match=r"wave_test_split1.txt:1"):
    hmdb51.load(root, "train", 1, ann)


# -- Kinetics ------------------------------------------------------------------

KINETICS_HEADER = "label,youtube_id,time_start,time_end,split,is_cc\n"


def _write_kinetics(ann):
  ann.mkdir(parents=True, exist_ok=True)
  (ann / "train.csv").write_text(
      KINETICS_HEADER +
      "abseiling,0347ZoDXyP0,14,24,train,0\n"
      "\"zumba\",--6bJUbfpnQ,17,27,train,0\n"
      "abseiling,missingVid0,0,10,train,0\n")
  (ann / "validate.csv").write_text(
      KINETICS_HEADER + "zumba,-0mnQ1TXtyI,3,13,val,0\n")
  # Kinetics-700's test.csv has no label column.
  (ann / "test.csv").write_text(
      "youtube_id,time_start,time_end,split\naaaaaaaaaaa,0,10,test\n")


def test_kinetics_trimmed_files(tmp_path):
  root, ann = tmp_path / "k400", tmp_path / "annotations"
  _write_kinetics(ann)
  _touch(root / "train" / "abseiling" / "0347ZoDXyP0_000014_000024.mp4")
  _touch(root / "train" / "zumba" / "--6bJUbfpnQ_000017_000027.mp4")
  _touch(root / "val" / "-0mnQ1TXtyI_000003_000013.mp4")
  _touch(root / "test" / "aaaaaaaaaaa_000000_000010.mp4")
  train = kinetics.load(root, "train", ann, "trimmed")
  assert train.class_names == ("abseiling", "zumba")
  assert [r["label"] for r in train.records] == [0, 1]  # missing skipped
  assert all("start" not in r for r in train.records)
  val = kinetics.load(root, "val", ann)
  assert [r["label"] for r in val.records] == [1]
  test = kinetics.load(root, "test", ann)
  assert [r["label"] for r in test.records] == [-1]


def test_kinetics_untrimmed_files_carry_the_segment(tmp_path):
  root, ann = tmp_path / "k400", tmp_path / "annotations"
  _write_kinetics(ann)
  _touch(root / "0347ZoDXyP0.mkv")
  _touch(root / "--6bJUbfpnQ.webm")
  train = kinetics.load(root, "train", ann, "untrimmed")
  assert [(r["start"], r["end"]) for r in train.records] == [(14.0, 24.0),
                                                             (17.0, 27.0)]
  assert train.records[1]["path"].endswith("--6bJUbfpnQ.webm")
  with pytest.raises(ValueError, match="none of the listed videos"):
    kinetics.load(root, "train", ann, "trimmed")


# -- Something-Something v2 ---------------------------------------------------


def test_something_something_v2_json(tmp_path):
  root = tmp_path / "20bn-something-something-v2"
  root.mkdir()
  labels = {"Approaching something with your camera": "0",
            "Holding something next to something": "1",
            "Pushing something from left to right": "2"}
  (root / "something-something-v2-labels.json").write_text(json.dumps(labels))
  (root / "something-something-v2-train.json").write_text(json.dumps([
      {"id": "78687", "label": "holding potato next to vicks vaporub bottle",
       "template": "Holding [something] next to [something]",
       "placeholders": ["potato", "vicks vaporub bottle"]},
      {"id": "42326", "label": "pushing a pen from left to right",
       "template": "Pushing [something] from left to right",
       "placeholders": ["a pen"]}]))
  (root / "something-something-v2-validation.json").write_text(json.dumps([
      {"id": "74225", "label": "approaching a cup with your camera",
       "template": "Approaching [something] with your camera",
       "placeholders": ["a cup"]}]))
  (root / "something-something-v2-test.json").write_text(
      json.dumps([{"id": "1420"}]))
  train = ssv2.load(root, "train")
  assert train.class_names[1] == "Holding something next to something"
  assert [r["label"] for r in train.records] == [1, 2]
  assert train.records[0]["path"] == str(root / "78687.webm")
  assert [r["label"] for r in ssv2.load(root, "val").records] == [0]
  assert [r["label"] for r in ssv2.load(root, "test").records] == [-1]


# -- generic CSV ---------------------------------------------------------------


def test_csv_names_indices_segments_and_header(tmp_path):
  (tmp_path / "train.csv").write_text(
      "path,label,start,end\nvideos/cat_01.mp4,cat\n"
      "videos/dog_07.mp4,dog,12.5,17.5\n/abs/bird.mp4,bird\n")
  (tmp_path / "test.csv").write_text("videos/x.mp4,-1\nvideos/y.mp4,1\n")
  train = csv_source.load(tmp_path, "train")
  assert train.class_names == ("bird", "cat", "dog")
  assert [r["label"] for r in train.records] == [1, 2, 0]
  assert (train.records[1]["start"], train.records[1]["end"]) == (12.5, 17.5)
  assert train.records[0]["path"] == str(tmp_path / "videos/cat_01.mp4")
  assert train.records[2]["path"] == "/abs/bird.mp4"
  test = csv_source.load(tmp_path, "test")
  assert [r["label"] for r in test.records] == [-1, 1]
  (tmp_path / "test.csv").write_text("a.mp4,cat,3\n")
  with pytest.raises(ValueError, match=r"test.csv:1"):
    csv_source.load(tmp_path, "test")


# -- pre-extracted frames ------------------------------------------------------


def test_frame_folders_for_any_layout(tmp_path):
  root, frames = tmp_path / "UCF-101", tmp_path / "frames"
  _write_ucf(root, root)
  rng = np.random.default_rng(0)
  expected = {}
  for c in UCF_CLASSES:
    for g in (1, 2, 3):
      folder = frames / c / f"v_{c}_g{g:02d}_c01"
      folder.mkdir(parents=True)
      shades = rng.integers(0, 256, size=5)
      for k, shade in enumerate(shades):  # img_00001.jpg, ... (1-based)
        Image.fromarray(np.full((12, 16, 3), shade, np.uint8)).save(
            folder / f"img_{k + 1:05d}.jpg", quality=100)
      expected[str(folder)] = shades
  data = ml_collections.ConfigDict(dict(
      source="ucf101", root=str(root), annotations_dir="", fold=1,
      frames_root=str(frames), frames_fps=25.0))
  test = make_source(data, "test")
  opts = pipeline.ClipOptions(num_frames=3, stride=2, pad_mode="none",
                              image_size=8, mean=(0.0,), std=(1.0,))
  for record in test.records:
    assert record["frames_fps"] == 25.0
    reader, grid = pipeline.open_grid(record, opts)
    with reader:
      assert grid.num == 5 and reader.info.fps == 25.0
      clip = grid.read(reader, np.array([0, 2, 4]))
    assert clip.shape == (3, 12, 16, 3)
    np.testing.assert_allclose(clip[:, 0, 0, 0],
                               expected[record["path"]][[0, 2, 4]], atol=2)
