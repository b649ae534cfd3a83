"""Writes this folder's Vidur-format profile (h100-llama-2-7b/): invented numbers from simple formulas, in the column
layout of microsoft/vidur at commit 7d47513 (mlp.csv, attention.csv, send_recv.csv, all_reduce.csv, cpu_overheads.csv).
Not measurements, and not copied from Vidur's data: they exist to test the reader. Times in ms, as in Vidur's files.
Rows for TP 2, another model and prefill are there to be filtered out. Run: python3 make_fixture.py"""
import csv, os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "h100-llama-2-7b")
STATS = ["min", "max", "mean", "median", "std"]

def stats(median):
    if median is None:
        return ["", "", "", "", ""]
    return [round(median * 0.97, 6), round(median * 1.05, 6), round(median * 1.01, 6), round(median, 6), round(median * 0.01, 6)]

def write(name, header, rows):
    with open(os.path.join(OUT, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)

# mlp.csv: one layer's ops; weights stream at 2.6 TB/s below ~150 tokens, then 700 TFLOP/s (invented).
OPS = ["emb", "input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj", "post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"]
def gemm_ms(params, tokens):
    return max(2 * params / 2.6e12, 2 * params * tokens / 700e12) * 1e3 + 0.004
def small_ms(tokens, hidden):
    return 0.003 + tokens * hidden * 2 * 3 / 2.0e12 * 1e3
def mlp_row(h, heads, kv, ffn, vocab, gated, tokens, tp):
    head_dim = h // heads
    ops = {
        "emb": small_ms(tokens, h),
        "input_layernorm": small_ms(tokens, h),
        "attn_pre_proj": gemm_ms(h * (heads + 2 * kv) * head_dim / tp, tokens),
        "attn_rope": small_ms(tokens, h),
        "attn_post_proj": gemm_ms(h * h / tp, tokens),
        "post_attention_layernorm": small_ms(tokens, h),
        "mlp_up_proj": gemm_ms(h * ffn * (2 if gated else 1) / tp, tokens),
        "mlp_act": small_ms(tokens, ffn / tp),
        "mlp_down_proj": gemm_ms(h * ffn / tp, tokens),
        "add": small_ms(tokens, h),
    }
    return [v for op in OPS for v in stats(ops[op])] + [heads, kv, h, ffn, vocab, gated, tokens, tp]
header = [f"time_stats.{op}.{s}" for op in OPS for s in STATS] + ["n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp", "num_tokens", "num_tensor_parallel_workers"]
tokens = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
rows = [mlp_row(4096, 32, 32, 11008, 32768, True, t, tp) for tp in (1, 2) for t in tokens]
rows += [mlp_row(5120, 40, 40, 13824, 32000, True, t, 1) for t in tokens]  # another model
rows.append(mlp_row(4096, 32, 32, 11008, 32768, True, 2048, 1))  # a repeated size, as in Vidur's files
write("mlp.csv", header, rows)

# attention.csv: decode of a uniform batch at 2.5 TB/s of KV plus 6 us and 0.3 us per sequence; prefill rows (not used).
ATT = ["attn_input_reshape", "attn_decode", "attn_output_reshape", "attn_prefill"]
header = [f"time_stats.{op}.{s}" for op in ATT for s in STATS] + ["n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers",
          "max_model_len", "batch_size", "prefill_chunk_size", "kv_cache_size", "is_prefill", "attention_backend"]
rows = []
for tp in (1, 2):
    for kv in [64, 128, 256, 512, 1024, 2048, 4096]:
        for b in [1, 2, 4, 8, 16, 32, 64, 128]:
            decode = (b * kv * 2 * (32 // tp) * 128 * 2 / 2.5e12) * 1e3 + 0.006 + 0.0003 * b
            rows.append(stats(0.0) + stats(decode) + stats(0.002) + stats(None)
                        + [4096, 32, 32, 16, tp, 4096, b, 0, kv, False, "AttentionBackend.FLASH_ATTENTION"])
    for chunk in [256, 1024, 2048]:
        prefill = 4 * chunk * chunk * 128 * (32 // tp) / 2 / 300e12 * 1e3 + 0.01
        rows.append(stats(0.0) + stats(None) + stats(0.004) + stats(prefill)
                    + [4096, 32, 32, 16, tp, 4096, 1, chunk, 0, True, "AttentionBackend.FLASH_ATTENTION"])
write("attention.csv", header, rows)

# send_recv.csv: 6 us + bytes at 300 GB/s between two GPUs of a node; 12 us + 40 GB/s across nodes (filtered out).
header = [""] + [f"time_stats.send_recv.{s}" for s in STATS] + ["rank", "num_workers", "size", "collective", "devices_per_node", "max_devices_per_node"]
rows = []
for per_node, (lat, bw) in [(1, (0.012, 40e9)), (2, (0.006, 300e9))]:
    for size in [2048, 65536, 1048576, 16777216, 134217728]:
        rows.append([len(rows)] + stats(lat + size / bw * 1e3) + [0, 2, size, "send_recv", per_node, 8])
write("send_recv.csv", header, rows)

header = [""] + [f"time_stats.all_reduce.{s}" for s in STATS] + ["rank", "num_workers", "size", "collective", "devices_per_node", "max_devices_per_node"]
write("all_reduce.csv", header, [[i] + stats(0.02 + size / 150e9 * 1e3) + [0, 8, size, "all_reduce", 8, 8] for i, size in enumerate([2048, 1048576, 67108864])])

# cpu_overheads.csv: host time per step growing with the batch (invented): 0.25 ms + 0.02 ms per request in all.
PARTS = ["schedule", "sampler_e2e", "prepare_inputs_e2e", "model_execution_e2e", "process_model_outputs"]
SHARE = {"schedule": (0.05, 0.004), "sampler_e2e": (0.08, 0.006), "prepare_inputs_e2e": (0.07, 0.005), "model_execution_e2e": (5.0, 0.1), "process_model_outputs": (0.05, 0.005)}
header = [f"{p}_mean" for p in PARTS] + [f"{p}_median" for p in PARTS] + ["model_name", "batch_size", "tensor_parallel_degree", "ray_comm_time_mean"]
rows = []
for tp in (1, 2):
    for b in [1, 8, 32, 64, 128, 256]:
        med = [SHARE[p][0] + SHARE[p][1] * b for p in PARTS]
        rows.append([round(m * 1.02, 6) for m in med] + [round(m, 6) for m in med] + ["meta-llama/Llama-2-7b-hf", b, tp, 0.1 * (tp - 1)])
write("cpu_overheads.csv", header, rows)
