"""What LoRA fine-tuning of the re-ranker would cost on this CPU: one training step, measured.

Issue 5 makes LoRA optional, "if the numbers justify it". This measures the price side before
anything is trained: the GGUF model is loaded into transformers (dequantized to float32), LoRA
adapters (peft, rank 8 on the attention projections) are added, and one verbalizer prompt of a
real leave-one-out training user (viewer block + 20 EASE candidates, the held-out training item
among them) is run forward and backward with the label of that item as the target, as a
LlamaRec-style fine-tune would. Also timed: a forward pass without gradients (what scoring a page
with the tuned model through transformers would cost, since the adapter is not merged into a
GGUF here).

    python benchmarks/lora_step_cost.py --model qwen2.5-coder-0.5b --threads 2 --steps 3 \
        --out benchmarks/results/lora_step_cost_0.5b.json

Needs ``peft`` and ``gguf`` beside the test extras (not cinerec dependencies).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from provenance import provenance

from cinerec.config import Settings
from cinerec.data.catalog import load_catalog
from cinerec.data.paths import resolve_data_dir
from cinerec.evaluation.protocols import build_task
from cinerec.llm.models import locate_gguf
from cinerec.llm.persona import UserProfile
from cinerec.llm.ranking.verbalizer import LABELS, verbalizer_prefix, verbalizer_suffix
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.ease import EASEConfig, EASERecommender


def _example(seed: int) -> tuple[list[dict[str, str]], str]:
    """Chat messages of one training user's verbalizer prompt and the label of their held-out
    training item (placed at a random position among EASE's top 19 for the rest)."""
    data_dir = resolve_data_dir()
    task = build_task("loo", data_dir)
    movies = {m.movie_id: m for m in load_catalog(data_dir)}
    ease = EASERecommender(EASEConfig())
    ease.fit(task.train, TrainingOptions(seed=seed, threads=1))
    rng = np.random.default_rng(seed)
    # a validation case's history is the user's training items in time order: its last one is
    # the training target, as in LlamaRec's fine-tuning examples
    case = next(c for c in task.validation if len(c.history) >= 30)
    history, target = case.history[:-1], case.history[-1].movie_id
    others = [r.movie_id for r in ease.recommend(history, n=20) if r.movie_id != target][:19]
    ids = list(others)
    ids.insert(int(rng.integers(0, 20)), target)
    shown = [movies[i] for i in ids]
    prefix = verbalizer_prefix(
        UserProfile(name=""), "", [movies[r.movie_id] for r in history if r.movie_id in movies]
    )
    messages = [{"role": m.role, "content": m.content} for m in prefix]
    messages[-1]["content"] += verbalizer_suffix(shown)
    return messages, LABELS[ids.index(target)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    messages, label = _example(args.seed)
    gguf = locate_gguf(args.model, Settings(llm_backend="none").cache_dir)
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, torch_dtype=torch.float32
    )
    load_s = time.perf_counter() - start
    model = get_peft_model(
        model,
        LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules=["q_proj", "v_proj"]),
    )
    trainable, total = model.get_nb_trainable_parameters()
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(prompt + label, return_tensors="pt").input_ids
    labels = torch.full_like(ids, -100)
    labels[0, -1] = ids[0, -1]  # the loss is on the answer label only
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    steps, losses = [], []
    model.train()
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        steps.append(time.perf_counter() - start)
        losses.append(float(loss))
    model.eval()
    forwards = []
    with torch.no_grad():
        for _ in range(args.steps):
            start = time.perf_counter()
            model(input_ids=ids)
            forwards.append(time.perf_counter() - start)
    result = {
        "benchmark": "lora step cost",
        "provenance": provenance(),
        "model": args.model,
        "threads": args.threads,
        "lora_rank": args.rank,
        "trainable_parameters": int(trainable),
        "parameters": int(total),
        "prompt_tokens": int(ids.shape[1]),
        "load_s": load_s,
        "train_step_s": steps,
        "train_step_s_median": statistics.median(steps),
        "forward_no_grad_s_median": statistics.median(forwards),
        "losses": losses,
        "load_average_at_end": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
