"""What it would cost the model to read each sentence with its neighbour as context (issue 10).

    python scripts/context_cost.py                      # PolNeAR dev, the default model, 2 runs each
    python scripts/context_cost.py --model DIR --repeat 3

The attribution head could see the next sentence ('"..." he said.' names the speaker after the
quote). All heads share one encoder pass per sentence, so that context would be paid by every
sentence of every run. This times the model alone (no reading, decoding or writing) on the same
sentences, each alone and each followed by the next sentence of its article, and prints the
sentences per second of both and the token counts. Voice takes a neighbour's speaker after the
model instead (stance/voice.py `tagger_voices`); `scripts/eval_voice.py --ablations` measures what
that step adds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stance.corpora import read_polnear  # noqa: E402
from stance.features import tokenize  # noqa: E402
from stance.inference import predict  # noqa: E402
from stance.modeling import load_model  # noqa: E402
from stance.segmentation import split_sentences  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "default")
    parser.add_argument("--root", type=Path, default=REPO.parent / "shared" / "data" / "polnear" / "dev")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per variant; the best is reported")
    args = parser.parse_args()
    model, tokenizer, config = load_model(args.model, fast=True)
    model.eval()
    alone, with_next = [], []
    for article in read_polnear(args.root):
        sentences = [s.text for s in split_sentences(article.text)]
        alone += sentences
        with_next += [f"{s} {n}" for s, n in zip(sentences, sentences[1:] + [""])]
    max_length = int(config["max_length"])
    report = {"sentences": len(alone), "model": str(args.model)}
    for name, texts, length in (("alone", alone, max_length), ("with_next_sentence", with_next, 2 * max_length)):
        encoded = tokenize(tokenizer, texts, length)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            predict(model, encoded, tokenizer.pad_token_id, device="cpu")
            times.append(time.perf_counter() - start)
        report[name] = {
            "tokens_per_sentence": round(statistics.mean(len(e) for e in encoded), 1),
            "model_sentences_per_s": round(len(texts) / min(times), 1),
        }
    report["slowdown_with_context"] = round(
        report["alone"]["model_sentences_per_s"] / report["with_next_sentence"]["model_sentences_per_s"], 2
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
