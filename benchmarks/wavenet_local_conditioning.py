"""Does local conditioning work? The same WaveNet with and without log-mel features.

    python -m benchmarks.wavenet_local_conditioning --output runs/wavenet_local --steps 1000

Trains zoo_configs/speech/wavenet_cpu.yaml twice for `--steps` steps on the
offline speech corpus, once as it is (speaker-conditioned) and once also
conditioned on 80-band log-mel frames of the recording (one per 256
samples, `wavenet_features`), same seed, same clips, and prints the test
bits per sample of both side by side (resuming either from its checkpoints).
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import arzoo  # noqa: E402
from arzoo.runs import save_run_config  # noqa: E402
from arzoo.training import train  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "zoo_configs", "speech", "wavenet_cpu.yaml")
VARIANTS = {
    "without_features": [],
    "with_log_mel": ["model.local_channels=80", "model.hop_length=256"],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=os.path.join("runs", "wavenet_local"))
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args(argv)
    results = {}
    for name, overrides in VARIANTS.items():
        config = arzoo.load_config(CONFIG, [f"training.steps={args.steps}",
                                            f"training.eval_every={args.steps}"] + overrides)
        out = os.path.join(args.output, name)
        os.makedirs(out, exist_ok=True)
        save_run_config(out, config)
        result = train(config, out, progress=False)
        results[name] = {"test_bits_per_sample": result.test_bits_per_dim,
                         "train_bits_per_sample": result.bits_per_dim,
                         "seconds_this_run": result.wall_time}
        print(json.dumps({name: results[name]}), flush=True)
    gain = results["without_features"]["test_bits_per_sample"] - results["with_log_mel"]["test_bits_per_sample"]
    print(json.dumps({"steps": args.steps, **results, "gain_bits_per_sample": gain}, indent=2))


if __name__ == "__main__":
    main()
