#!/usr/bin/env bash
# Rebuild monitor/detect/models/ssd_mobilenetv2_oidv4.onnx from the npm package that ships it
# (see monitor/detect/models/PROVENANCE.md). Needs npm and python3; works in a throw-away
# directory and venv and checks the package's and the .tflite's hashes. tflite2onnx names some
# fused weights differently from run to run, so the .onnx is not byte-identical: instead, when a
# model is already committed, the rebuilt one must give exactly its outputs on a fixed input.
set -euo pipefail

VERSION=0.4.1675468480
TGZ_SHA=fc3e37b326b05e8f596099c90b3e0931b05a56cd3160b9ac450b621794bac94c
TFLITE_SHA=d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6
# the packed assets file holds the label map, then the detector (byte ranges from its loader .js)
TFLITE_START=184
TFLITE_END=9987912

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/monitor/detect/models"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack "@mediapipe/objectron@$VERSION" >/dev/null
echo "$TGZ_SHA  mediapipe-objectron-$VERSION.tgz" | sha256sum -c -
tar xzf "mediapipe-objectron-$VERSION.tgz"
grep -q "object_detection_ssd_mobilenetv2_oidv4_fp16.tflite\", \"start\": $TFLITE_START, \"end\": $TFLITE_END" \
    package/objectron_solution_packed_assets_loader.js
python3 - "$TFLITE_START" "$TFLITE_END" <<'PY'
import sys
start, end = int(sys.argv[1]), int(sys.argv[2])
data = open("package/objectron_solution_packed_assets.data", "rb").read()
open("labelmap.txt", "wb").write(data[:start])
open("ssd.tflite", "wb").write(data[start:end])
PY
echo "$TFLITE_SHA  ssd.tflite" | sha256sum -c -

python3 -m venv venv
venv/bin/pip install -q "tflite2onnx==0.4.1" "onnx==1.23.2"
venv/bin/tflite2onnx ssd.tflite ssd32.onnx
# the .tflite stores its weights as float16: keep them so (lossless, checked) with a Cast to float32
venv/bin/python "$here/scripts/person_model_fp16.py" ssd32.onnx ssd.onnx
if [ -f "$out/ssd_mobilenetv2_oidv4.onnx" ]; then
    venv/bin/python - "$out/ssd_mobilenetv2_oidv4.onnx" ssd.onnx <<'PY'
import sys
import numpy as np
from onnx.reference import ReferenceEvaluator
x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 300, 300)).astype(np.float32)
a, b = (ReferenceEvaluator(p).run(None, {"normalized_input_image_tensor": x}) for p in sys.argv[1:3])
diff = max(float(np.abs(u - v).max()) for u, v in zip(a, b))
print(f"largest output difference from the committed model: {diff}")
sys.exit(diff > 1e-5)
PY
    echo "the committed model is reproduced: kept as it is"
    exit 0
fi

cp ssd.onnx "$out/ssd_mobilenetv2_oidv4.onnx"
cp labelmap.txt "$out/labelmap.txt"
echo "written: $out/ssd_mobilenetv2_oidv4.onnx"
