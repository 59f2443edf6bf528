#!/usr/bin/env python3
"""HF transformers' BertModel on given padded batches, timed: the anchor of `bench/blas.ts` and `bench/pairs.ts`.

The model is `transformers.BertModel.from_pretrained(--model)` (config.json + model.safetensors, float32,
transformers' default attention implementation), run under torch.inference_mode() on CPU with
torch.set_num_threads(--threads); each batch's last hidden state is mean-pooled over its attention mask, as
sentence-transformers does. Tokenization is not timed (the batches come as ids). Every pass runs all batches;
the first pass is a warm-up (timed too: `warmupSeconds`, what a fresh process's first call costs). Prints one
JSON object: versions, settings, seconds per pass, the pooled vectors of the last pass (row order of the
batches) for checking against ours.

    python3 bench/anchors/hf_batches.py --model DIR --batches batches.json [--threads 2] [--passes 3]

batches.json: {"batches": [{"input_ids": [[...], ...], "attention_mask": [[...], ...]}, ...]}
"""
import argparse
import json
import sys
import time

import torch
import transformers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="folder with config.json and model.safetensors")
    ap.add_argument("--batches", required=True, help="JSON file of padded batches of ids")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    ap.add_argument("--passes", type=int, default=3, help="timed passes over all batches (default 3)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()  # no warning about the pooler absent from the checkpoint
    model = transformers.BertModel.from_pretrained(args.model, add_pooling_layer=False, torch_dtype=torch.float32)
    model.eval()
    with open(args.batches) as f:
        spec = json.load(f)
    batches = [(torch.tensor(b["input_ids"], dtype=torch.int64), torch.tensor(b["attention_mask"], dtype=torch.int64))
               for b in spec["batches"]]

    pooled = []

    def one_pass():
        pooled.clear()
        for ids, mask in batches:
            hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
            m = mask[:, :, None].to(hidden.dtype)
            pooled.append((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9))

    seconds, cpu = [], []
    with torch.inference_mode():
        t0, c0 = time.perf_counter(), time.process_time()
        one_pass()  # warm-up
        warmup, warmup_cpu = time.perf_counter() - t0, time.process_time() - c0
        for _ in range(args.passes):
            t0, c0 = time.perf_counter(), time.process_time()
            one_pass()
            seconds.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)

    json.dump({
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "warmupSeconds": warmup,
        "warmupCpuSeconds": warmup_cpu,
        "seconds": seconds,
        "cpuSeconds": cpu,
        "pooled": torch.cat(pooled).flatten().tolist(),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
