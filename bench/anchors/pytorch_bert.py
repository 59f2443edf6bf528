#!/usr/bin/env python3
"""The PyTorch side of the benchmark: the same BERT forward, the same weights, the same token ids, on CPU.

Two implementations (--impl):
  plain         HF's BertModel (eager attention, float32) written in plain torch ops, so it needs neither
                `transformers` nor `safetensors`: torch and numpy only (Debian: python3-torch, libopenblas0-pthread).
  transformers  HF transformers' own BertModel.from_pretrained(--model-dir), with its default attention
                (sdpa in transformers 5), float32, no pooler: what sentence-transformers runs. Needs torch +
                transformers + safetensors (pip install transformers torch).
Weights come from the safetensors file the Node side wrote (--weights), or are rebuilt from
../shared/fixtures/SYNTHETIC.md (the same hash, in numpy). Token ids come as JSON (--cases), written by
bench/suites/pytorch.ts; the timings go to stdout as JSON, raw samples in seconds.

Threads: torch.set_num_threads(--threads, default 1) sets the intra-op pool; Debian's torch does its
matmuls in OpenBLAS, whose own pool is OPENBLAS_NUM_THREADS (default here: all cores). One intra-op thread
plus OpenBLAS's threads is the fastest combination measured with Debian's torch 1.13; both are reported.

    /usr/bin/python3 bench/anchors/pytorch_bert.py --cases cases.json [--weights model.safetensors]
    /usr/bin/python3 bench/anchors/pytorch_bert.py --verify ../shared/fixtures/base/refs.safetensors
    python3 bench/anchors/pytorch_bert.py --impl transformers --model-dir DIR --threads 2 --cases cases.json
"""
import argparse
import json
import math
import os
import platform
import struct
import sys
import time

# OpenBLAS reads this when it loads (with torch): it must be set before `import torch`.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count() or 1))

import numpy as np  # noqa: E402
import torch  # noqa: E402

BERT_BASE = {
    "vocab_size": 21128, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "max_position_embeddings": 512, "type_vocab_size": 2,
    "layer_norm_eps": 1e-12, "hidden_act": "gelu",
}


# --- weights -------------------------------------------------------------------------------------

def tensor_shapes(c):
    H, I = c["hidden_size"], c["intermediate_size"]
    shapes = {
        "embeddings.word_embeddings.weight": [c["vocab_size"], H],
        "embeddings.position_embeddings.weight": [c["max_position_embeddings"], H],
        "embeddings.token_type_embeddings.weight": [c["type_vocab_size"], H],
        "embeddings.LayerNorm.weight": [H], "embeddings.LayerNorm.bias": [H],
    }
    for l in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            shapes[p + m + ".weight"] = [H, H]
            shapes[p + m + ".bias"] = [H]
        shapes[p + "intermediate.dense.weight"] = [I, H]
        shapes[p + "intermediate.dense.bias"] = [I]
        shapes[p + "output.dense.weight"] = [H, I]
        shapes[p + "output.dense.bias"] = [H]
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[p + ln + ".weight"] = [H]
            shapes[p + ln + ".bias"] = [H]
    return shapes


def synthetic_scale_offset(name):
    """SYNTHETIC.md's table, first match wins."""
    if name.endswith("LayerNorm.weight"):
        return 0.25, 1.0
    if name.endswith("LayerNorm.bias"):
        return 0.125, 0.0
    if name == "embeddings.word_embeddings.weight":
        return 0.75, 0.0
    if name in ("embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight"):
        return 0.375, 0.0
    if name.endswith(".bias"):
        return 0.0625, 0.0
    if name.endswith("attention.self.query.weight") or name.endswith("attention.self.key.weight"):
        return 0.078125, 0.0
    if name.endswith("output.dense.weight") and not name.endswith("attention.output.dense.weight"):
        return 0.03125, 0.0
    return 0.0625, 0.0


def synthetic_tensor(name, shape):
    h = 0x811C9DC5
    for b in name.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    n = int(np.prod(shape))
    with np.errstate(over="ignore"):
        x = np.arange(n, dtype=np.uint32) * np.uint32(0x9E3779B1) + np.uint32(h)
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x85EBCA6B)
        x ^= x >> np.uint32(13)
        x *= np.uint32(0xC2B2AE35)
        x ^= x >> np.uint32(16)
    u = (x.astype(np.float64) + 0.5) / 2.0**32
    scale, offset = synthetic_scale_offset(name)
    return (offset + scale * (2.0 * u - 1.0)).astype(np.float32).reshape(shape)


def read_safetensors(path):
    """name -> float32 numpy array (F32 files only: what the Node side writes and the fixtures hold)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    kinds = {"F32": np.float32, "I32": np.int32, "I64": np.int64}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[name] = np.frombuffer(raw, dtype=kinds[v["dtype"]], count=(b - a) // np.dtype(kinds[v["dtype"]]).itemsize,
                                  offset=8 + n + a).reshape(v["shape"])
    return out


def load_weights(config, path):
    shapes = tensor_shapes(config)
    if path:
        arrays = read_safetensors(path)
        arrays = {k[5:] if k.startswith("bert.") else k: v for k, v in arrays.items()}
        missing = [k for k in shapes if k not in arrays]
        if missing:
            raise SystemExit(f"error: {path}: missing tensors {missing[:3]}")
        return {k: torch.from_numpy(np.array(arrays[k], dtype=np.float32)) for k in shapes}
    return {k: torch.from_numpy(synthetic_tensor(k, s)) for k, s in shapes.items()}


# --- the forward (HF BertModel, eager attention) --------------------------------------------------

def gelu(x, kind):
    if kind == "gelu":
        return torch.nn.functional.gelu(x)
    if kind in ("gelu_new", "gelu_pytorch_tanh"):
        return torch.nn.functional.gelu(x, approximate="tanh")
    if kind == "relu":
        return torch.relu(x)
    raise SystemExit(f"error: unsupported hidden_act {kind}")


class Bert:
    def __init__(self, config, w):
        self.c, self.w = config, w

    def forward(self, ids, mask, token_types=None, inputs_embeds=None):
        """inputs_embeds: [B, L, H] word-embedding rows used instead of looking ids up (HF's inputs_embeds)."""
        c, w = self.c, self.w
        F = torch.nn.functional
        H, h = c["hidden_size"], c["num_attention_heads"]
        d = H // h
        eps = c["layer_norm_eps"]
        B, L = ids.shape
        if token_types is None:
            token_types = torch.zeros_like(ids)
        words = w["embeddings.word_embeddings.weight"][ids] if inputs_embeds is None else inputs_embeds
        x = (words
             + w["embeddings.position_embeddings.weight"][:L][None]
             + w["embeddings.token_type_embeddings.weight"][token_types])
        x = F.layer_norm(x, (H,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        # HF's extended mask: 0 where attended, finfo(float32).min where padded; [B, 1, 1, L]
        ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        for l in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{l}."

            def lin(x, name):
                return F.linear(x, w[p + name + ".weight"], w[p + name + ".bias"])

            def heads(t):  # [B, L, H] -> [B, h, L, d]
                return t.view(B, L, h, d).transpose(1, 2)

            q, k, v = heads(lin(x, "attention.self.query")), heads(lin(x, "attention.self.key")), heads(lin(x, "attention.self.value"))
            scores = q @ k.transpose(-1, -2) / math.sqrt(d) + ext
            ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, L, H)
            x = F.layer_norm(lin(ctx, "attention.output.dense") + x, (H,),
                             w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
            inter = gelu(lin(x, "intermediate.dense"), c["hidden_act"])
            x = F.layer_norm(lin(inter, "output.dense") + x, (H,),
                             w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        return x


class HfBert:
    """transformers' BertModel behind the same forward(ids, mask) → last hidden state as Bert above."""

    def __init__(self, model):
        self.model = model

    def forward(self, ids, mask, token_types=None):
        return self.model(input_ids=ids, attention_mask=mask, token_type_ids=token_types).last_hidden_state


def load_transformers(model_dir, device):
    if not model_dir:
        raise SystemExit("error: --impl transformers needs --model-dir (or --weights inside the model folder)")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers  # noqa: E402 (only this implementation needs it)
    from transformers import BertModel

    model = BertModel.from_pretrained(model_dir, add_pooling_layer=False, dtype=torch.float32).to(device).eval()
    return HfBert(model), {"transformers": transformers.__version__,
                           "attnImplementation": getattr(model.config, "_attn_implementation", None)}


def mean_pool(hidden, mask):
    m = mask[:, :, None].to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


# --- timing ---------------------------------------------------------------------------------------

def time_case(fn, warmup, min_samples, max_time):
    """benchmark.js's rule: at least min_samples, then stop once max_time seconds have passed.
    Returns wall seconds per call, and this process's CPU seconds (all threads) per call."""
    for _ in range(warmup):
        fn()
    samples, cpu, start = [], [], time.perf_counter()
    while len(samples) < min_samples or time.perf_counter() - start < max_time:
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return samples, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", help="JSON: {config?, cases: [{name, batches: [{input_ids, attention_mask}], budget?, check?}]}")
    ap.add_argument("--weights", help="safetensors file with the model's float32 weights (default: rebuild SYNTHETIC.md)")
    ap.add_argument("--config", help="HF config.json (default: BERT-base shape)")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument("--verify", help="a fixture refs.safetensors: run its input_ids and report max abs error")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, or auto (cuda when available); GPU timings synchronize")
    ap.add_argument("--impl", choices=("plain", "transformers"), default="plain",
                    help="plain torch ops (default), or HF transformers' BertModel loaded from --model-dir")
    ap.add_argument("--model-dir", help="an HF model folder (config.json + weights) for --impl transformers "
                                        "(default: the folder of --weights)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    config = dict(BERT_BASE)
    spec = {}
    if args.cases:
        with open(args.cases) as f:
            spec = json.load(f)
        config.update(spec.get("config", {}))
    if args.config:
        with open(args.config) as f:
            config.update({k: v for k, v in json.load(f).items() if k in BERT_BASE})

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    t0 = time.perf_counter()
    if args.impl == "transformers":
        model, impl_info = load_transformers(args.model_dir or (os.path.dirname(args.weights) if args.weights else None), device)
    else:
        model, impl_info = Bert(config, {k: v.to(device) for k, v in load_weights(config, args.weights).items()}), {}
    load_s = time.perf_counter() - t0
    out = {
        "impl": args.impl, **impl_info,
        "torch": torch.__version__, "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "numpy": np.__version__, "python": platform.python_version(),
        "settings": {
            "intraOpThreads": torch.get_num_threads(), "interOpThreads": torch.get_num_interop_threads(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "grad": "torch.inference_mode",
        },
        "weights": (args.model_dir or args.weights) if args.impl == "transformers" else (args.weights or "synthetic (SYNTHETIC.md, numpy)"),
        "weightsSeconds": load_s,
        "cases": [], "checks": {},
    }

    with torch.inference_mode():
        if args.verify:
            refs = read_safetensors(args.verify)
            ids, mask = (torch.from_numpy(refs[k].astype(np.int64)).to(device) for k in ("input_ids", "attention_mask"))
            hidden = model.forward(ids, mask)
            want = torch.from_numpy(np.array(refs["last_hidden_state"])).to(device)
            keep = mask.bool()
            out["verify"] = {"file": args.verify, "lastHiddenStateMaxAbs": float((hidden - want)[keep].abs().max())}
        for case in spec.get("cases", []):
            batches = [(torch.tensor(b["input_ids"], dtype=torch.int64, device=device),
                        torch.tensor(b["attention_mask"], dtype=torch.int64, device=device))
                       for b in case["batches"]]

            def run():
                for ids, mask in batches:
                    model.forward(ids, mask)
                sync()

            budget = case.get("budget", {})
            samples, cpu = time_case(run, budget.get("warmup", 1), budget.get("minSamples", 3), budget.get("maxTime", 1.0))
            out["cases"].append({"name": case["name"], "sampleS": samples, "cpuS": cpu})
            if case.get("check"):
                ids, mask = batches[0]
                out["checks"][case["name"]] = mean_pool(model.forward(ids, mask), mask).flatten().tolist()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
