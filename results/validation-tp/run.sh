#!/bin/bash
# Reproduces every figure of results/validation-tp/README.md (about a minute on 2 cores).
# Run from the repository root after `dotnet build Simulator -c Release`:
#   bash results/validation-tp/run.sh [OUT]      (OUT defaults to /tmp/tpv; runs are not tracked)
set -u
OUT=${1:-/tmp/tpv}; mkdir -p "$OUT"
SIM="dotnet Simulator/bin/Release/net10.0/Simulator.dll"
M=results/validation-tp/metrics.py

# run NAME NODE [--set ...]: Llama-3.1-70B (Llama-3-70B's shape) as one TP 4 instance, vLLM policy
run() {
  local name=$1 node=$2; shift 2
  $SIM run configs/llama-3.1-70b-tp8.yaml --out "$OUT/$name" --set node=$node \
    --set 'deployment.gpus=[{role: colocated, count: 1, tp: 4}]' "$@" > "$OUT/$name.log" 2>&1 \
    || { echo "$name failed, see $OUT/$name.log"; return; }
  python3 $M "$OUT/$name"
}

# Workloads. vLLM benchmark_latency: a burst of 8 requests, 32 prompt and 128 output tokens.
LAT=(--set 'workload.arrival={process: burst}' --set 'workload.prompt={dist: fixed, value: 32}'
     --set 'workload.output={dist: fixed, value: 128}' --set workload.num_requests=8)
# ShareGPT as vLLM's and SGLang's benchmark scripts sample it with the Llama-3 tokenizer (prompts of
# 4-1,024 tokens): lognormal lengths giving means of about 212 prompt and 190 output tokens (see README).
SG=(--set 'workload.prompt={dist: lognormal, median: 130, sigma: 1.0, min: 4, max: 1024}'
    --set 'workload.output={dist: lognormal, median: 127, sigma: 0.9, min: 4, max: 1024}')
BURST=(--set 'workload.arrival={process: burst}')
QPS1=(--set 'workload.arrival={process: poisson, rate_per_s: 1}' --set workload.num_requests=200)
# Engine settings of vLLM >= 0.6 (async output processing, FlashAttention decode), chosen from the
# engine version before any comparison; the default columns use neither.
V06=(--set cost_model.engine_cpu=vllm_async --set cost_model.attention_kernel=fa2)
# The model before vLLM's custom all-reduce was priced (every all-reduce at NCCL's fit), and collectives made free (a diagnostic).
NCCL=(--set cost_model.all_reduce=nccl)
FREE=(--set 'node.all_reduce=[{gpus: 4, latency_us: 0.001, bus_bandwidth_gb_per_s: 100000}]' --set cost_model.all_reduce=nccl)

for n in hgx-h200 dgx-h100; do
  for v in default v06; do
    X=(); [ $v = v06 ] && X=("${V06[@]}")
    run lat-$n-$v    $n "${LAT[@]}" "${X[@]}"                                   # rows 1-2
    run srv1-$n-$v   $n "${SG[@]}" "${QPS1[@]}" "${X[@]}"                       # rows 3-6
    run thr200-$n-$v $n "${SG[@]}" "${BURST[@]}" --set workload.num_requests=200 "${X[@]}"   # rows 7-8
    # TP 1 control: Llama-3.1-8B on one GPU, same tests (latency_llama8B_tp1, throughput_llama8B_tp1)
    run c8b-lat-$n-$v $n "${LAT[@]}" --set model=llama-3.1-8b --set 'deployment.gpus=[{role: colocated, count: 1, tp: 1}]' "${X[@]}"
    run c8b-thr-$n-$v $n "${SG[@]}" "${BURST[@]}" --set workload.num_requests=200 --set model=llama-3.1-8b --set 'deployment.gpus=[{role: colocated, count: 1, tp: 1}]' "${X[@]}"
  done
done
for v in default v06; do
  X=(); [ $v = v06 ] && X=("${V06[@]}")
  run sg-rps4-$v dgx-h100 "${SG[@]}" --set 'workload.arrival={process: poisson, rate_per_s: 4}' --set workload.num_requests=1200 "${X[@]}"  # row 9
  run sg-rps8-$v dgx-h100 "${SG[@]}" --set 'workload.arrival={process: poisson, rate_per_s: 8}' --set workload.num_requests=2400 "${X[@]}"  # row 10
  run sg-off-$v  dgx-h100 "${SG[@]}" "${BURST[@]}" --set workload.num_requests=5000 "${X[@]}"                                       # row 11
done

# NCCL-only column and diagnostics (README "What the table says")
for n in hgx-h200 dgx-h100; do
  run nccl-lat-$n-default    $n "${LAT[@]}" "${NCCL[@]}"
  run nccl-srv1-$n-default   $n "${SG[@]}" "${QPS1[@]}" "${NCCL[@]}"
  run nccl-thr200-$n-default $n "${SG[@]}" "${BURST[@]}" --set workload.num_requests=200 "${NCCL[@]}"
  run diag-free-lat-$n-default $n "${LAT[@]}" "${FREE[@]}"
done
run nccl-sg-rps4-default dgx-h100 "${SG[@]}" --set 'workload.arrival={process: poisson, rate_per_s: 4}' --set workload.num_requests=1200 "${NCCL[@]}"
run nccl-sg-rps8-default dgx-h100 "${SG[@]}" --set 'workload.arrival={process: poisson, rate_per_s: 8}' --set workload.num_requests=2400 "${NCCL[@]}"
run nccl-sg-off-default  dgx-h100 "${SG[@]}" "${BURST[@]}" --set workload.num_requests=5000 "${NCCL[@]}"
