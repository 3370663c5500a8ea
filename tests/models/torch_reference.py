"""PyTorch references for parity tests: torchvision's video and image ResNets.

torchvision has no CPU build that installs beside the pinned CPU torch, so
these rebuild the architectures of torchvision.models.video.{r3d_18,
mc3_18, r2plus1d_18} and torchvision.models.resnet{18,50} in plain torch,
written for these tests from the papers and torchvision's documented
layout, with the same module tree, so `state_dict()` keys and shapes are
those of torchvision's checkpoints (checked against the published names in
test_convert.py). Only what parity needs: forward in eval mode.
"""

from __future__ import annotations

import torch
from torch import nn


def _bn3(c):
  return nn.BatchNorm3d(c)


class Conv2Plus1D(nn.Sequential):
  def __init__(self, cin, cout, mid, stride=1):
    super().__init__(
        nn.Conv3d(cin, mid, (1, 3, 3), (1, stride, stride), (0, 1, 1),
                  bias=False),
        _bn3(mid), nn.ReLU(inplace=True),
        nn.Conv3d(mid, cout, (3, 1, 1), (stride, 1, 1), (1, 0, 0),
                  bias=False))


def conv3x3x3(cin, cout, mid, stride=1):
  del mid
  return nn.Conv3d(cin, cout, 3, stride, 1, bias=False)


def conv1x3x3(cin, cout, mid, stride=1):
  del mid
  return nn.Conv3d(cin, cout, (1, 3, 3), (1, stride, stride), (0, 1, 1),
                   bias=False)


class VideoBasicBlock(nn.Module):
  def __init__(self, cin, cout, conv, stride, downsample):
    super().__init__()
    mid = (cin * cout * 27) // (cin * 9 + 3 * cout)
    self.conv1 = nn.Sequential(conv(cin, cout, mid, stride), _bn3(cout),
                               nn.ReLU(inplace=True))
    self.conv2 = nn.Sequential(conv(cout, cout, mid), _bn3(cout))
    self.relu = nn.ReLU(inplace=True)
    self.downsample = downsample

  def forward(self, x):
    res = x if self.downsample is None else self.downsample(x)
    return self.relu(self.conv2(self.conv1(x)) + res)


class VideoResNet(nn.Module):
  """kind: "r3d", "mc3" or "r2plus1d"; 18 layers, 64..512 channels."""

  def __init__(self, kind: str, num_classes: int = 400):
    super().__init__()
    if kind == "r2plus1d":
      self.stem = nn.Sequential(
          nn.Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False),
          _bn3(45), nn.ReLU(inplace=True),
          nn.Conv3d(45, 64, (3, 1, 1), 1, (1, 0, 0), bias=False),
          _bn3(64), nn.ReLU(inplace=True))
      convs = [Conv2Plus1D] * 4
    else:
      self.stem = nn.Sequential(
          nn.Conv3d(3, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False),
          _bn3(64), nn.ReLU(inplace=True))
      convs = [conv3x3x3] * 4 if kind == "r3d" else \
          [conv3x3x3] + [conv1x3x3] * 3
    cin = 64
    for i, (cout, conv) in enumerate(zip((64, 128, 256, 512), convs)):
      stride = 1 if i == 0 else 2
      ds = None
      if stride != 1 or cin != cout:
        ds_stride = (1, stride, stride) if conv is conv1x3x3 else stride
        ds = nn.Sequential(nn.Conv3d(cin, cout, 1, ds_stride, bias=False),
                           _bn3(cout))
      setattr(self, f"layer{i + 1}", nn.Sequential(
          VideoBasicBlock(cin, cout, conv, stride, ds),
          VideoBasicBlock(cout, cout, conv, 1, None)))
      cin = cout
    self.avgpool = nn.AdaptiveAvgPool3d(1)
    self.fc = nn.Linear(512, num_classes)

  def forward(self, x):  # [B, 3, T, H, W]
    x = self.stem(x)
    for i in range(1, 5):
      x = getattr(self, f"layer{i}")(x)
    return self.fc(self.avgpool(x).flatten(1))


class BasicBlock2d(nn.Module):
  expansion = 1

  def __init__(self, cin, planes, stride, downsample):
    super().__init__()
    self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(planes)
    self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(planes)
    self.relu = nn.ReLU(inplace=True)
    self.downsample = downsample

  def forward(self, x):
    res = x if self.downsample is None else self.downsample(x)
    y = self.relu(self.bn1(self.conv1(x)))
    return self.relu(self.bn2(self.conv2(y)) + res)


class Bottleneck2d(nn.Module):
  expansion = 4

  def __init__(self, cin, planes, stride, downsample):
    super().__init__()
    self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(planes)
    self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(planes)
    self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
    self.bn3 = nn.BatchNorm2d(planes * 4)
    self.relu = nn.ReLU(inplace=True)
    self.downsample = downsample

  def forward(self, x):
    res = x if self.downsample is None else self.downsample(x)
    y = self.relu(self.bn1(self.conv1(x)))
    y = self.relu(self.bn2(self.conv2(y)))
    return self.relu(self.bn3(self.conv3(y)) + res)


class ResNet2d(nn.Module):
  """torchvision.models.resnet18 (depth 18) or resnet50 (depth 50)."""

  def __init__(self, depth: int, num_classes: int = 1000):
    super().__init__()
    block, layers = {18: (BasicBlock2d, (2, 2, 2, 2)),
                     50: (Bottleneck2d, (3, 4, 6, 3))}[depth]
    self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
    self.bn1 = nn.BatchNorm2d(64)
    self.relu = nn.ReLU(inplace=True)
    self.maxpool = nn.MaxPool2d(3, 2, 1)
    cin = 64
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
      stride = 1 if i == 0 else 2
      blocks = []
      for b in range(n):
        ds = None
        if b == 0 and (stride != 1 or cin != planes * block.expansion):
          ds = nn.Sequential(
              nn.Conv2d(cin, planes * block.expansion, 1, stride, bias=False),
              nn.BatchNorm2d(planes * block.expansion))
        blocks.append(block(cin, planes, stride if b == 0 else 1, ds))
        cin = planes * block.expansion
      setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
    self.avgpool = nn.AdaptiveAvgPool2d(1)
    self.fc = nn.Linear(cin, num_classes)

  def forward(self, x):  # [B, 3, H, W]
    x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
    for i in range(1, 5):
      x = getattr(self, f"layer{i}")(x)
    return self.fc(self.avgpool(x).flatten(1))


def randomize_batch_norm(model: nn.Module, seed: int = 0) -> None:
  """Non-trivial BatchNorm statistics and affine parameters, so parity
  tests exercise their conversion (fresh ones are 0/1)."""
  g = torch.Generator().manual_seed(seed)
  for m in model.modules():
    if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
      n = m.num_features
      with torch.no_grad():
        m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
        m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
        m.weight.copy_(torch.rand(n, generator=g) + 0.5)
        m.bias.copy_(torch.randn(n, generator=g) * 0.1)
