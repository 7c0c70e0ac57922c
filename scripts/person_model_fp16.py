"""Store the ONNX model's float weights as float16 (they were float16 in the .tflite) with a Cast back to float32.

usage: person_model_fp16.py IN.onnx OUT.onnx   (scripts/build-person-model.sh runs it)
The initialisers are written in name order: tflite2onnx emits them in a varying order, and a
fixed order makes the output byte-identical from run to run (its sha256 is checked).
"""
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src)
g = m.graph
casts = []
for init in list(g.initializer):
    if init.data_type != TensorProto.FLOAT or numpy_helper.to_array(init).size < 64:
        continue
    arr = numpy_helper.to_array(init)
    half = arr.astype(np.float16)
    assert np.array_equal(half.astype(np.float32), arr), init.name  # lossless: the weights were float16
    name = init.name
    init.CopyFrom(numpy_helper.from_array(half, name + "_fp16"))
    casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT, name=name + "_cast"))
for node in reversed(casts):
    g.node.insert(0, node)
ordered = sorted(g.initializer, key=lambda t: t.name)
del g.initializer[:]
g.initializer.extend(ordered)
onnx.checker.check_model(m)
onnx.save(m, dst)
print(len(casts), "weights stored as float16")
