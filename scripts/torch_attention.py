"""PyTorch's attention for one query token over a KV cache, on the shapes RealRunner profiles.

OPT-6.7B shapes (32 heads, head_dim 128, fp16), uniform KV lengths, one layer. Timed with CUDA
events after a warm-up, median of 20 runs, inputs random (never zeros). Writes batch,kv_len,time_us.
Run on the GPU machine: python3 scripts/torch_attention.py --out torch_attention.csv
"""
import argparse
import csv
import statistics

import torch
import torch.nn.functional as F

HEADS, HEAD_DIM = 32, 128
BATCHES = [1, 8, 32, 64, 128, 256]
LENGTHS = [256, 1024, 4096]


def time_us(fn, repeats=20):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) * 1000.0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rows = []
    for batch in BATCHES:
        for length in LENGTHS:
            q = torch.randn(batch, HEADS, 1, HEAD_DIM, device="cuda", dtype=torch.float16)
            k = torch.randn(batch, HEADS, length, HEAD_DIM, device="cuda", dtype=torch.float16)
            v = torch.randn(batch, HEADS, length, HEAD_DIM, device="cuda", dtype=torch.float16)
            t = time_us(lambda: F.scaled_dot_product_attention(q, k, v))
            rows.append((batch, length, t))
            print(f"batch {batch:4d} kv {length:5d}: {t:9.1f} us  ({2 * batch * HEADS * length * HEAD_DIM * 2 / t / 1e3:7.1f} GB/s of KV)")
            del q, k, v
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["batch", "kv_len", "time_us"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
