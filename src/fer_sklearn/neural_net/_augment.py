"""Training-time augmentation applied to whole batches on the training device: the random
affine jitter, flips and erasing of :class:`ImageAugmenter`, and mixup/cutmix
(:func:`mix_batch`)."""

import math

import numpy as np
import torch
import torch.nn.functional as F


class ImageAugmenter:
    """Random affine jitter, flips and erasing for a batch of images.

    Each image draws its own shift, rotation, scale and flip; all of them are
    applied in a single ``grid_sample`` call on the batch's device, so this is
    as cheap on a GPU as it is on the CPU.

    Parameters
    ----------
    max_shift : float, default=0.1
        Largest shift as a fraction of the image side.
    max_rotation : float, default=10.0
        Largest rotation in degrees.
    max_scale : float, default=0.1
        Largest relative zoom in or out.
    flip : bool, default=True
        Whether to mirror half of the images left-right.
    erasing : float, default=0.0
        Probability of erasing one random rectangle (random erasing) per image.

    Examples
    --------
    >>> import torch
    >>> from fer_sklearn import ImageAugmenter
    >>> ImageAugmenter()(torch.zeros(4, 1, 48, 48)).shape
    torch.Size([4, 1, 48, 48])
    """

    def __init__(self, max_shift=0.1, max_rotation=10.0, max_scale=0.1, flip=True, erasing=0.0):
        self.max_shift = max_shift
        self.max_rotation = max_rotation
        self.max_scale = max_scale
        self.flip = flip
        self.erasing = erasing

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"

    def __eq__(self, other):
        return type(other) is type(self) and vars(other) == vars(self)

    def __call__(self, images):
        """Return an augmented copy of ``images`` ``(n, c, h, w)``."""
        n, device = len(images), images.device

        def uniform(low, high):
            return torch.empty(n, device=device).uniform_(low, high)

        angle = uniform(-1, 1) * math.radians(self.max_rotation)
        scale = 1 + uniform(-1, 1) * self.max_scale
        mirror = torch.ones(n, device=device)
        if self.flip:
            mirror = torch.where(torch.rand(n, device=device) < 0.5, -mirror, mirror)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([
            torch.stack([cos * mirror, -sin, uniform(-2, 2) * self.max_shift], dim=1),
            torch.stack([sin * mirror, cos, uniform(-2, 2) * self.max_shift], dim=1),
        ], dim=1)
        grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
        out = F.grid_sample(images, grid, mode="bilinear", padding_mode="border",
                            align_corners=False)
        if self.erasing > 0:
            out = self._erase(out)
        return out

    def _erase(self, images):
        n, _, h, w = images.shape
        device = images.device
        area = torch.empty(n, device=device).uniform_(0.02, 0.25) * h * w
        aspect = torch.exp(torch.empty(n, device=device).uniform_(math.log(0.3), math.log(3.3)))
        eh = torch.sqrt(area * aspect).clamp(1, h)
        ew = torch.sqrt(area / aspect).clamp(1, w)
        top = torch.rand(n, device=device) * (h - eh)
        left = torch.rand(n, device=device) * (w - ew)
        rows = torch.arange(h, device=device)[None, :, None]
        cols = torch.arange(w, device=device)[None, None, :]
        box = ((rows >= top[:, None, None]) & (rows < (top + eh)[:, None, None])
               & (cols >= left[:, None, None]) & (cols < (left + ew)[:, None, None]))
        box &= (torch.rand(n, device=device) < self.erasing)[:, None, None]
        noise = torch.randn_like(images)
        return torch.where(box[:, None], noise, images)


def mix_batch(images, mixup, cutmix, rng=np.random):
    """Mix a batch of images with a shuffled copy of itself (mixup, or cutmix's pasted box).

    The mixing weight is drawn on the host (no wait for the device); with
    cutmix, ``lam`` is the share of the image left uncovered by the box.

    Parameters
    ----------
    images : Tensor of shape (n, channels, height, width)
        The batch.
    mixup, cutmix : float
        The Beta distributions' parameters (0: off); with both on, each batch
        takes one of the two at random.
    rng : numpy.random.RandomState or module, default=numpy.random
        Where the mixing weight is drawn.

    Returns
    -------
    mixed : Tensor
        The mixed images, shaped as ``images``.
    other : Tensor of int
        The index of the image each was mixed with.
    lam : float
        The share of the first image.
    """
    n, _, h, w = images.shape
    other = torch.randperm(n, device=images.device)
    use_cutmix = cutmix > 0 and (mixup <= 0 or rng.rand() < 0.5)
    lam = float(rng.beta(cutmix, cutmix) if use_cutmix else rng.beta(mixup, mixup))
    if not use_cutmix:
        return lam * images + (1 - lam) * images[other], other, lam
    bh, bw = int(round(h * np.sqrt(1 - lam))), int(round(w * np.sqrt(1 - lam)))
    top, left = rng.randint(0, h - bh + 1), rng.randint(0, w - bw + 1)
    mixed = images.clone()
    mixed[:, :, top:top + bh, left:left + bw] = images[other, :, top:top + bh, left:left + bw]
    return mixed, other, 1 - bh * bw / (h * w)
