"""README figures of a trained real-valued image run (spatial LSTM or
MCGSM): texture synthesis and completions.

    python -m benchmarks.spatial_lstm_figures RUN --out docs

Writes, under --out:

- `<prefix>_textures.png`: samples drawn at --size (default twice the
  training size) with the trained weights (`model.resized`): the model's
  weights are shared across positions, so it synthesises larger images of
  the same texture (RIDE, section 4.3).
- `<prefix>_completions.png`: per row a held-out image, its upper part
  (the unknown lower part grey) and --completions completions drawn by
  `model.complete` (the pixels are drawn in raster order given everything
  above and to the left, so the known upper part conditions every one).
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from arzoo.events import event_space  # noqa: E402
from arzoo.events.real_image import to_levels_for_display  # noqa: E402
from arzoo.figures import completion_rows, save_grid  # noqa: E402
from arzoo.runs import open_run  # noqa: E402


def texture_figure(model, path, size, count, seed):
    """`size` as `arzoo sample --size` takes it (<height>x<width>)."""
    samples = event_space(model).sized_model(size).sample(count, seed=seed).numpy()
    save_grid(path, to_levels_for_display(samples), 256, columns=min(count, 4))


def completion_figure(run, path, count, completions, known_rows, seed):
    model = run.model
    space = event_space(model)
    data = run.config["data"]
    originals = space.test_images(data, data.test_split, max_examples=count)
    known = np.zeros(originals.shape, bool)
    known[:, :known_rows] = True
    drawn = np.stack([model.complete(originals, known, seed=seed + k).numpy() for k in range(completions)])
    rows = completion_rows(to_levels_for_display(originals), known, to_levels_for_display(drawn))
    save_grid(path, rows, 256, columns=completions + 2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a finished `arzoo train` folder of a real-valued image model")
    parser.add_argument("--out", default="docs", help="folder for the PNGs")
    parser.add_argument("--prefix", default="spatial_lstm")
    parser.add_argument("--size", help="texture size <height>x<width> (default twice the training size)")
    parser.add_argument("--textures", type=int, default=8)
    parser.add_argument("--examples", type=int, default=4, help="held-out images to complete")
    parser.add_argument("--completions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    run = open_run(args.run)
    if run.config is None:
        parser.error(f"{args.run!r} has no config.yaml: give a run folder (its test split is read).")
    height, width = run.model.image_shape[:2]
    size = args.size or f"{2 * height}x{2 * width}"
    os.makedirs(args.out, exist_ok=True)
    textures = os.path.join(args.out, f"{args.prefix}_textures.png")
    texture_figure(run.model, textures, size, args.textures, args.seed)
    completions = os.path.join(args.out, f"{args.prefix}_completions.png")
    completion_figure(run, completions, args.examples, args.completions, height // 2, args.seed)
    print(textures)
    print(completions)


if __name__ == "__main__":
    main()
