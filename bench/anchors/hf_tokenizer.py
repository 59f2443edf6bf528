#!/usr/bin/env python3
"""The HF side of the tokenizer benchmark: the XLM-R SentencePiece tokenizer as transformers 5.17 builds it
(XLMRobertaTokenizer on the Rust `tokenizers` backend, one thread), over the same Chinese STS-B train sentences
as bench/tokenizer.ts, one sentence at a time and in batches of 32.

Needs `transformers` and `tokenizers` (see the README's pip mirror). Prints the median pass per CPU-second,
like bench/tokenizer.ts, so the two can be read side by side:

    RAYON_NUM_THREADS=1 python3 bench/anchors/hf_tokenizer.py [seconds]
"""
import os
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before tokenizers starts its pool
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from transformers import AutoTokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.environ.get("SBERT_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
CORPUS = os.path.join(FIXTURES, "..", "corpus", "sts-b.train.tsv")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    sentences = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 2:
                sentences += [cols[0], cols[1]]
    backend = AutoTokenizer.from_pretrained(os.path.join(FIXTURES, "xlmr", "xlmr-tiny", "hf"))._tokenizer
    chunks = [sentences[i : i + 32] for i in range(0, len(sentences), 32)]
    runs = {
        "encode, one sentence at a time": lambda: [backend.encode(s) for s in sentences],
        "encode_batch, 32 per batch": lambda: [backend.encode_batch(c) for c in chunks],
    }
    print(f"corpus: {len(sentences)} sentences; tokenizers (Rust), RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}")
    for name, run in runs.items():
        run()  # warm-up
        rates = []
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            c0 = time.process_time()
            run()
            rates.append(len(sentences) / (time.process_time() - c0))
        rates.sort()
        print(f"{name}: per CPU-second {rates[len(rates) // 2]:,.0f} sentences/s (median of {len(rates)} passes)")


if __name__ == "__main__":
    main()
