#!/usr/bin/env python3
"""Write a PyTorch reference file that `sbert compare` checks sbert-tfjs against.

Needs torch, transformers and safetensors; sentence-transformers is optional (adds st.*).

    python scripts/dump_reference.py MODEL_DIR --out REF.safetensors [S1 S2 ... | --sentences FILE]
        [--pair A B]... [--long FILE] [--rounded fp16 bf16] [--first N] [--max-length N]
    npx sbert compare --model MODEL_DIR --reference REF.safetensors

MODEL_DIR is a HF folder (config.json + weights + tokenizer) or a sentence-transformers folder.
The model runs in float32 on the CPU with eager attention (what the fixtures were made with), and the
file holds exactly the keys of ../shared/fixtures/README.md:

    input_ids, attention_mask, token_type_ids        the padded batch [B, L] (int32)
    hidden_states.{0..N}                             embeddings output, then each layer's output [B, L, H]
    attentions.{i}                                   softmax probabilities [B, heads, L, L]
    layer.{i}.query                                  query projection, before the head split [B, L, H]
    layer.{i}.attention_output                       attention block output, after its LayerNorm [B, L, H]
    layer.{i}.intermediate                           FFN intermediate, after the activation [B, L, I]
    last_hidden_state                                [B, L, H]
    pool.{mean,cls,max,mean_sqrt_len,mean_normalized}  pooled over attention_mask, as sentence-transformers pools [B, H]
    st.mean, st.mean_normalized                      SentenceTransformer(MODEL_DIR).encode(...) (mean pooling models)
    pairs.{input_ids,attention_mask,token_type_ids,last_hidden_state,pool.mean}   with --pair
    long.{input_ids,last_hidden_state,pool.mean}     with --long: one text truncated to the model's length
    fp16.*, bf16.* {last_hidden_state,pool.mean}     with --rounded: the batch through weights rounded to
                                                     that dtype, computed in float32 (for fp16/bf16 checkpoints)

With --first N, the per-layer tensors (hidden_states, attentions, layer.*) hold only the first N sentences
and their keys end in `.firstN` (e.g. hidden_states.3.first2), which keeps big models' files small.
"""

import argparse
import copy
import json
import os
import sys

import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file
from transformers import AutoTokenizer, BertModel


def transformer_dir(model_dir):
    """A sentence-transformers folder keeps the HF model where modules.json's Transformer module says."""
    modules = os.path.join(model_dir, "modules.json")
    if os.path.exists(modules):
        with open(modules, encoding="utf-8") as f:
            for module in json.load(f):
                if module.get("type", "").endswith("Transformer"):
                    return os.path.join(model_dir, module.get("path", ""))
    return model_dir


def pools(hidden, mask):
    """sentence_transformers.models.Pooling, every mode, over real tokens only."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    total = (hidden * m).sum(1)
    count = m.sum(1).clamp(min=1e-9)
    mean = total / count
    return {
        "mean": mean,
        "cls": hidden[:, 0],
        "max": hidden.masked_fill(m == 0, -1e9).max(1).values,
        "mean_sqrt_len": total / torch.sqrt(count),
        "mean_normalized": F.normalize(mean, p=2, dim=1),
    }


def pooling_mode(module):
    """A sentence-transformers Pooling module's mode ('mean', 'cls', ...), across its versions."""
    if hasattr(module, "get_pooling_mode_str"):
        return module.get_pooling_mode_str()
    return module.get_config_dict().get("pooling_mode")


def forward(model, batch, internals):
    """One eager forward; with `internals`, forward hooks catch query / attention_output / intermediate."""
    caught = {}
    handles = []

    def catch(name):
        def hook(module, inputs, output):
            caught[name] = output[0] if isinstance(output, tuple) else output

        return hook

    if internals:
        for i, layer in enumerate(model.encoder.layer):
            handles.append(layer.attention.self.query.register_forward_hook(catch(f"layer.{i}.query")))
            handles.append(layer.attention.output.register_forward_hook(catch(f"layer.{i}.attention_output")))
            handles.append(layer.intermediate.register_forward_hook(catch(f"layer.{i}.intermediate")))
    try:
        with torch.no_grad():
            out = model(**batch, output_hidden_states=internals, output_attentions=internals, return_dict=True)
    finally:
        for h in handles:
            h.remove()
    return out, caught


def ids(batch, prefix=""):
    return {prefix + k: batch[k].to(torch.int32) for k in ("input_ids", "attention_mask", "token_type_ids")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("sentences", nargs="*", help="sentences of the main batch")
    ap.add_argument("--out", required=True, help="the .safetensors file to write")
    ap.add_argument("--sentences", dest="sentences_file", help="a UTF-8 file with one sentence per line (an empty line is an empty sentence)")
    ap.add_argument("--pair", nargs=2, action="append", default=[], metavar=("A", "B"), help="a sentence pair (repeatable)")
    ap.add_argument("--long", help="a UTF-8 text file: one long text, truncated to the model's length")
    ap.add_argument("--rounded", nargs="+", choices=["fp16", "bf16"], default=[], help="also the batch through weights rounded to these dtypes")
    ap.add_argument("--first", type=int, help="per-layer tensors only for the first N sentences (keys end in .firstN)")
    ap.add_argument("--max-length", type=int, help="truncate to N tokens (default: the model's maximum)")
    args = ap.parse_intermixed_args()  # sentences may come before or after the options

    sentences = list(args.sentences)
    if args.sentences_file:
        with open(args.sentences_file, encoding="utf-8", newline="") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline that ends the last line
        sentences += [line[:-1] if line.endswith("\r") else line for line in lines]  # empty lines are empty sentences
    if not sentences:
        ap.error("give sentences as arguments or with --sentences FILE")

    hf_dir = transformer_dir(args.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    # float32 on the CPU with eager attention: .float() also turns an fp16/bf16 checkpoint into float32.
    model = BertModel.from_pretrained(hf_dir, attn_implementation="eager", add_pooling_layer=False).float().eval()
    max_length = args.max_length or min(tokenizer.model_max_length, model.config.max_position_embeddings)
    encode = dict(padding=True, truncation=True, max_length=max_length, return_tensors="pt")

    refs = {}
    batch = tokenizer(sentences, **encode)
    refs.update(ids(batch))
    out, caught = forward(model, batch, internals=True)
    rows, suffix = (slice(None), "") if args.first is None else (slice(0, args.first), f".first{args.first}")
    for i, h in enumerate(out.hidden_states):
        refs[f"hidden_states.{i}{suffix}"] = h[rows]
    for i, a in enumerate(out.attentions):
        refs[f"attentions.{i}{suffix}"] = a[rows]
    for name, t in caught.items():
        refs[name + suffix] = t[rows]
    refs["last_hidden_state"] = out.last_hidden_state
    for mode, v in pools(out.last_hidden_state, batch["attention_mask"]).items():
        refs[f"pool.{mode}"] = v

    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("sentence-transformers not installed: no st.* tensors", file=sys.stderr)
    else:
        st = SentenceTransformer(args.model_dir, device="cpu")
        modes = [pooling_mode(m) for m in st if type(m).__name__ == "Pooling"]
        normalizes = any(type(m).__name__ == "Normalize" for m in st)
        too_long = int(batch["attention_mask"].sum(1).max()) > st.max_seq_length
        if modes != ["mean"] or too_long:
            print(f"st.* skipped: pooling {modes}, max_seq_length {st.max_seq_length}", file=sys.stderr)
        else:
            emb = st.encode(sentences, batch_size=len(sentences), convert_to_tensor=True).float().cpu()
            if not normalizes:
                refs["st.mean"] = emb
            refs["st.mean_normalized"] = F.normalize(emb, p=2, dim=1)

    if args.pair:
        pairs = tokenizer([a for a, _ in args.pair], [b for _, b in args.pair], **encode)
        refs.update(ids(pairs, "pairs."))
        out, _ = forward(model, pairs, internals=False)
        refs["pairs.last_hidden_state"] = out.last_hidden_state
        refs["pairs.pool.mean"] = pools(out.last_hidden_state, pairs["attention_mask"])["mean"]

    if args.long:
        with open(args.long, encoding="utf-8") as f:
            long = tokenizer([f.read()], **encode)
        refs["long.input_ids"] = long["input_ids"].to(torch.int32)  # one unpadded text: mask all ones, one segment
        out, _ = forward(model, long, internals=False)
        refs["long.last_hidden_state"] = out.last_hidden_state
        refs["long.pool.mean"] = pools(out.last_hidden_state, long["attention_mask"])["mean"]

    for name in args.rounded:
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[name]
        rounded = copy.deepcopy(model).to(dtype).float()
        out, _ = forward(rounded, batch, internals=False)
        refs[f"{name}.last_hidden_state"] = out.last_hidden_state
        refs[f"{name}.pool.mean"] = pools(out.last_hidden_state, batch["attention_mask"])["mean"]

    # clone(): last_hidden_state is hidden_states[-1], and safetensors refuses tensors that share memory.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in refs.items()}
    for k, v in tensors.items():
        if v.dtype not in (torch.float32, torch.int32):
            tensors[k] = v.float()
    metadata = {
        "producer": f"transformers {transformers.__version__}",
        "torch": torch.__version__,
        "attn_implementation": "eager",
        "sentences": json.dumps(sentences, ensure_ascii=False),
    }
    save_file(tensors, args.out, metadata=metadata)
    print(f"wrote {len(tensors)} tensors to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
