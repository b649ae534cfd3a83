#!/usr/bin/env bash
# Everything RealRunner should do on a lent GPU, in one device call (see README "Running on a GPU").
# Build the single-file program here first:
#   dotnet publish RealRunner -c Release -r linux-x64 --self-contained true -p:PublishSingleFile=true \
#     -p:EnableCompressionInSingleFile=true -p:InvariantGlobalization=true -o publish/realrunner
# then run this script on the GPU machine from the repository root, carrying publish/. Outputs go
# under $OUT: selfcheck, a full profile (calibration for the simulator), serving runs, the validation
# of OPT-6.7B (commit it as results/validation-h100/), nvidia-smi, and PyTorch's attention on the same
# shapes where PyTorch is installed.
set -uo pipefail
OUT=${OUT:-gpu-out}
BIN=${BIN:-publish/realrunner/RealRunner}
mkdir -p "$OUT"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
status() { echo "$1: exit $2"; }
"$BIN" selfcheck --backend cuda --scale 8 > "$OUT/selfcheck.txt" 2>&1; status selfcheck $?
"$BIN" profile --backend cuda --model opt-6.7b --out "$OUT/calibration-h100-opt-6.7b" > "$OUT/profile.txt" 2>&1; status profile $?
"$BIN" run configs/device/gpu-opt-6.7b.yaml --backend cuda --out "$OUT/run-gpu-opt-6.7b" > "$OUT/run.txt" 2>&1; status run $?
"$BIN" run configs/device/tiny-disaggregated.yaml --backend cuda --out "$OUT/run-tiny-disaggregated" > "$OUT/run-disaggregated.txt" 2>&1; status run-disaggregated $?
"$BIN" validate configs/device/gpu-opt-6.7b.yaml --backend cuda --calibration "$OUT/calibration-h100-opt-6.7b/calibration.yaml" \
  --out "$OUT/validation-h100" > "$OUT/validate.txt" 2>&1; status validate $?
if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  python3 scripts/torch_attention.py --out "$OUT/torch_attention.csv" > "$OUT/torch.txt" 2>&1; status torch $?
else
  echo "torch: not installed or no CUDA; skipped"
fi
tail -n 25 "$OUT/profile.txt"; tail -n 5 "$OUT/run.txt"; tail -n 3 "$OUT/selfcheck.txt"; tail -n 4 "$OUT/validate.txt"
