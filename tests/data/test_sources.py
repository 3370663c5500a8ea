"""UCF101-layout reader on files in the official format."""

import pytest

from vidjax.data.sources import ucf101


def _write_ucf(root, lists_dir=None):
  lists = lists_dir or root
  lists.mkdir(parents=True, exist_ok=True)
  (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 Archery\n")
  (lists / "trainlist01.txt").write_text(
      "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n"
      "Archery/v_Archery_g09_c02.avi 2\n")
  (lists / "testlist01.txt").write_text(
      "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n"
      "Archery/v_Archery_g01_c03.avi\n")
  (root / "Archery").mkdir(parents=True, exist_ok=True)


def test_reads_official_lists(tmp_path):
  _write_ucf(tmp_path)
  train = ucf101.load(tmp_path, "train")
  test = ucf101.load(tmp_path, "test")
  assert train.class_names == ("ApplyEyeMakeup", "Archery")
  assert [r["label"] for r in train.records] == [0, 1]
  assert [r["label"] for r in test.records] == [0, 1]  # from the folder
  assert test.records[1]["path"] == str(
      tmp_path / "Archery/v_Archery_g01_c03.avi")
  assert [r["video_id"] for r in test.records] == [0, 1]


def test_separate_annotation_folder(tmp_path):
  videos, lists = tmp_path / "UCF-101", tmp_path / "ucfTrainTestlist"
  _write_ucf(videos, lists)
  source = ucf101.load(videos, "train", annotations_dir=lists)
  assert len(source) == 2


def test_missing_and_empty_data_folder(tmp_path):
  with pytest.raises(FileNotFoundError, match=str(tmp_path / "nope")):
    ucf101.load(tmp_path / "nope", "train")
  (tmp_path / "empty").mkdir()
  with pytest.raises(FileNotFoundError, match="empty"):
    ucf101.load(tmp_path / "empty", "train")


def test_label_disagreeing_with_folder(tmp_path):
  _write_ucf(tmp_path)
  (tmp_path / "trainlist01.txt").write_text(
      "Archery/v_Archery_g09_c02.avi 1\n")
  with pytest.raises(ValueError, match="trainlist01.txt:1"):
    ucf101.load(tmp_path, "train")
