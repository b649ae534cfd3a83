#!/usr/bin/env python3
"""Print, for one run folder, the metrics the TP validation table compares (see README.md here).

e2e/TTFT/TPOT means and medians over requests (requests.csv); itl_tokw: the mean gap between
consecutive tokens after the first, pooled over all tokens, as vLLM's and SGLang's benchmark_serving
report "ITL" (sum of (finish - first token) / sum of (output tokens - 1)); throughput over the span
from the first arrival to the last finish; the share of pass time in dense, attention, host and the
rest (collectives, small kernels, LM head) from iterations.csv.
"""
import csv, statistics as st, sys

d = sys.argv[1]
r = list(csv.DictReader(open(d + "/requests.csv")))
it = list(csv.DictReader(open(d + "/iterations.csv")))
f = lambda x: float(x)
e2e = [f(x["e2e_s"]) for x in r]
ttft = [f(x["ttft_s"]) for x in r]
tpot = [f(x["tpot_s"]) for x in r if x["tpot_s"].lower() not in ("", "nan")]
span = max(f(x["finish_s"]) for x in r) - min(f(x["arrival_s"]) for x in r)
out = sum(int(x["output_tokens"]) for x in r)
inp = sum(int(x["prompt_tokens"]) for x in r)
many = [x for x in r if int(x["output_tokens"]) > 1]
itl = sum(f(x["finish_s"]) - f(x["first_token_s"]) for x in many) / sum(int(x["output_tokens"]) - 1 for x in many)
dur = sum(f(x["duration_s"]) for x in it)
dense = sum(f(x["dense_s"]) for x in it)
attn = sum(f(x["decode_attention_s"]) + f(x["prefill_attention_s"]) for x in it)
host = sum(f(x["host_s"]) for x in it)
print(f"{d.rstrip('/').split('/')[-1]}: n={len(r)} mean_in={inp/len(r):.1f} mean_out={out/len(r):.1f} "
      f"e2e_mean_ms={st.mean(e2e)*1e3:.1f} e2e_median_ms={st.median(e2e)*1e3:.1f} "
      f"ttft_mean_ms={st.mean(ttft)*1e3:.1f} ttft_median_ms={st.median(ttft)*1e3:.1f} "
      f"tpot_mean_ms={st.mean(tpot)*1e3:.2f} tpot_median_ms={st.median(tpot)*1e3:.2f} itl_tokw_ms={itl*1e3:.2f} "
      f"req_per_s={len(r)/span:.3f} out_tok_per_s={out/span:.1f} "
      f"pass_share dense={dense/dur:.2f} attention={attn/dur:.2f} host={host/dur:.2f} rest={(dur-dense-attn-host)/dur:.2f}")
