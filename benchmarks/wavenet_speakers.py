"""Does global conditioning work? Speaker identification on held-out speech.

    python -m benchmarks.wavenet_speakers --output runs/wavenet_speakers --steps 4000

Trains zoo_configs/speech/wavenet_cpu.yaml (8 speakers of the offline
festival / espeak-ng corpus; resumes from `--output` if it holds
checkpoints) for `--steps` steps, then for every held-out recording cuts a
one-second clip (fixed places) and picks the speaker s maximising
log p(clip | s) (`arzoo.evaluation.identify_speakers`). Prints the accuracy,
the chance level, the confusion matrix and the test bits per sample.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import arzoo  # noqa: E402
from arzoo.evaluation.run import evaluate  # noqa: E402
from arzoo.runs import open_run, save_run_config  # noqa: E402
from arzoo.training import train  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "zoo_configs", "speech", "wavenet_cpu.yaml")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=os.path.join("runs", "wavenet_speakers"))
    parser.add_argument("--steps", type=int, default=4000)
    args = parser.parse_args(argv)
    config = arzoo.load_config(CONFIG, [f"training.steps={args.steps}"])
    os.makedirs(args.output, exist_ok=True)
    save_run_config(args.output, config)
    result = train(config, args.output)
    report = evaluate(open_run(args.output), speaker_id=True)
    report.update(training_steps=result.step, training_seconds_this_run=result.wall_time)
    print(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
