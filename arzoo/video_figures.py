"""Video figures: a PNG strip of frames and an animated GIF grid."""

import io

import numpy as np
from PIL import Image

from arzoo.figures import image_grid, save_png
from arzoo.files import atomic_write_bytes

# Milliseconds each frame of a GIF is shown.
GIF_FRAME_MS = 200


def video_strip(videos, num_levels):
    """`[N, T, H, W, C]` levels -> one uint8 image: a row per video, its
    frames left to right (NaN, an unknown entry, shown mid-grey)."""
    videos = np.asarray(videos, np.float64)
    videos = np.where(np.isnan(videos), (num_levels - 1) / 2.0, videos)
    count, frames = videos.shape[:2]
    return image_grid(videos.reshape((count * frames,) + videos.shape[2:]), num_levels, columns=frames)


def save_video_strip(path, videos, num_levels):
    """`video_strip` written as a PNG, atomically."""
    return save_png(path, video_strip(videos, num_levels))


def save_video_gif(path, videos, num_levels, frame_ms=GIF_FRAME_MS):
    """`[N, T, H, W, C]` levels as an animated GIF, atomically: frame t of
    the GIF tiles frame t of every video in a near-square grid; it loops."""
    videos = np.asarray(videos)
    tiles = [Image.fromarray(image_grid(videos[:, t], num_levels)) for t in range(videos.shape[1])]
    buffer = io.BytesIO()
    tiles[0].save(buffer, format="GIF", save_all=True, append_images=tiles[1:], duration=frame_ms, loop=0)
    atomic_write_bytes(path, buffer.getvalue())
    return path
