"""Generation configs; the clips they (and the FVD feature network) use."""

import ml_collections


def apply_generation_data(c: ml_collections.ConfigDict) -> None:
  """8 frames of 16 px, 4 apart, whole frames (no random crops).

  At 16 px a shape is 3-4 px across and moves about a pixel between
  source frames: every 4th frame makes the motion several pixels per step,
  which the feature network needs to tell the classes apart. The
  generators learn the distribution of whole resized frames; the FVD
  feature network is trained on the same clips so its features describe
  them.
  """
  c.data.update(num_frames=8, stride=4, image_size=16)
  c.data.augment.update(random_resized_crop=False, horizontal_flip=False,
                        color_jitter=0.0)
