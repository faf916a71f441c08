"""Channel-group connectivity for R -> G -> B dependence inside a pixel.

PixelCNN (van den Oord et al. 2016, arXiv:1601.06759, section 3.4) splits the
feature maps of every layer into as many groups as the image has channels.
Group g may read groups < g of the current pixel (mask A) or groups <= g
(mask B); other pixels follow the spatial mask. A unit's group is
`index * num_groups // num_units`, so the groups are contiguous blocks: the
image channels are groups 0..C-1 and a categorical head's logits for channel c
(block c of `num_levels` outputs) land in group c.
"""

import numpy as np

MASK_TYPES = ("A", "B")


def check_mask_type(mask_type):
    if mask_type not in MASK_TYPES:
        raise ValueError(
            f"mask_type must be one of {MASK_TYPES}, got mask_type={mask_type!r}."
        )


def check_divisible(name, num_units, num_groups):
    if num_units % num_groups:
        raise ValueError(
            f"{name}={num_units} must be divisible by the number of channel "
            f"groups ({num_groups}, one per image channel) so that every "
            "channel gets the same number of units."
        )


def channel_group_mask(in_units, out_units, num_groups, mask_type):
    """`[in_units, out_units]` float32 0/1 connectivity at the current pixel.

    Args:
      in_units: input feature channels.
      out_units: output feature channels.
      num_groups: channel groups (the image's channel count; 1 disables).
      mask_type: "A" (strictly earlier groups) or "B" (earlier or same group).
    """
    check_mask_type(mask_type)
    check_divisible("in_units", in_units, num_groups)
    check_divisible("out_units", out_units, num_groups)
    in_group = np.arange(in_units) * num_groups // in_units
    out_group = np.arange(out_units) * num_groups // out_units
    if mask_type == "A":
        allowed = in_group[:, None] < out_group[None, :]
    else:
        allowed = in_group[:, None] <= out_group[None, :]
    return allowed.astype(np.float32)
