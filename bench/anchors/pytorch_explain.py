#!/usr/bin/env python3
"""The PyTorch side of the explain benchmark: integrated gradients of the cosine similarity of two sentences.

The same definition as sbert-tfjs's `explain` (../shared/fixtures/tiny/grads.json): each sentence alone (batch 1,
mean pooling), the other's embedding held fixed; the baseline keeps the [CLS] and [SEP] word-embedding rows and puts
the [PAD] row everywhere else; midpoint rule alpha_k = (k + 1/2) / steps, every step in one batch; torch autograd in
float32 on the CPU. The forward is bench/anchors/pytorch_bert.py's (HF BertModel in plain torch ops).

    python3 bench/anchors/pytorch_explain.py --case case.json [--weights model.safetensors] [--config config.json]
        [--runs 3] [--threads 1]

case.json: {"a": [ids], "b": [ids], "pad": 0, "keep": [101, 102], "steps": 52}. Prints JSON: seconds per
explanation (both sentences), and the attributions, similarity and completeness errors of the last run.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_bert as pb  # noqa: E402  (sets OPENBLAS_NUM_THREADS before torch loads)
import torch  # noqa: E402


def embedding(model, ids):
    with torch.no_grad():
        t = torch.tensor([ids])
        mask = torch.ones_like(t)
        return pb.mean_pool(model.forward(t, mask), mask)[0]


def integrated_gradients(model, ids, other, pad, keep, steps):
    w = model.w["embeddings.word_embeddings.weight"]
    t = torch.tensor([ids] * steps)
    mask = torch.ones_like(t)
    x = w[torch.tensor(ids)]
    base = w[torch.tensor([i if i in keep else pad for i in ids])]
    alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
    path = (base[None] + alphas[:, None, None] * (x - base)[None]).detach().requires_grad_(True)
    cos = torch.nn.functional.cosine_similarity(pb.mean_pool(model.forward(t, mask, inputs_embeds=path), mask), other[None])
    (grad,) = torch.autograd.grad(cos.sum(), path)
    attributions = ((x - base) * grad.mean(0)).sum(-1)
    with torch.no_grad():
        ends = torch.stack([x, base])
        two = torch.tensor([ids] * 2)
        f = torch.nn.functional.cosine_similarity(pb.mean_pool(model.forward(two, torch.ones_like(two), inputs_embeds=ends),
                                                               torch.ones_like(two)), other[None])
    return attributions, float(attributions.sum() - (f[0] - f[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", required=True)
    ap.add_argument("--weights", help="safetensors file (default: rebuild SYNTHETIC.md)")
    ap.add_argument("--config", help="HF config.json (default: BERT-base shape)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = dict(pb.BERT_BASE)
    if args.config:
        with open(args.config) as f:
            config.update({k: v for k, v in json.load(f).items() if k in config})
    model = pb.Bert(config, pb.load_weights(config, args.weights))
    with open(args.case) as f:
        case = json.load(f)
    keep, pad, steps = set(case["keep"]), case["pad"], case["steps"]

    def explain():
        va, vb = embedding(model, case["a"]), embedding(model, case["b"])
        sim = float(torch.nn.functional.cosine_similarity(va, vb, dim=0))
        ra, ea = integrated_gradients(model, case["a"], vb, pad, keep, steps)
        rb, eb = integrated_gradients(model, case["b"], va, pad, keep, steps)
        return {"similarity": sim, "a": ra.tolist(), "b": rb.tolist(), "completeness_error": {"a": ea, "b": eb}}

    explain()  # warm-up
    seconds, result = [], None
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = explain()
        seconds.append(time.perf_counter() - t0)
    json.dump({"torch": torch.__version__, "threads": args.threads, "seconds": seconds, **result}, sys.stdout)


if __name__ == "__main__":
    main()
