#!/usr/bin/env bash
# The prepared device check: one script, one folder of results, a fixed budget.
#
#   bash benchmarks/gpu_check.sh                       # CUDA, paper preset; sized for about 6 minutes (not yet timed on a GPU)
#   DEVICE=cpu PRESET=small BUDGET=2 UPDATES=2 EPISODES=20 REF_EPISODES=16 EVAL_EPISODES=4 \
#       SPEED_ALGOS=bc COMPILE=off OUT=/tmp/check bash benchmarks/gpu_check.sh   # the CPU path CI runs
#   (CUDA: the speed table times eager with a host read per update (sync), eager read every --log-every
#    updates (off) and the whole update as one CUDA graph (graph); the headline runs train with
#    --compile graph, and again with --compile off where the capture fails)
#
# 1. the training-speed table (benchmarks/train_speed.py: SPEED_ALGOS x {small, PRESET} x COMPILE x
#    PRECISION, ratios against eager float32 in the same run, and SEEDS seeds as one stacked update against one seed)
#    -> $OUT/speed.md
# 2. the quality suite's headline datasets (spread expert, tag medium, 3m medium; recorded with the
#    suite recorder when missing) trained with PRESET by macflow and bc for BUDGET seconds of
#    updates each (`train --time-limit`, default precision: TF32 on CUDA), evaluated on EVAL_EPISODES held-out episodes
#    -> $OUT/runs/*, one line each in $OUT/summary.md (updates reached, updates/s, normalized score).
set -euo pipefail
DEVICE="${DEVICE:-cuda}"
PRESET="${PRESET:-paper}"
BUDGET="${BUDGET:-30}"
UPDATES="${UPDATES:-50}"
EVAL_EPISODES="${EVAL_EPISODES:-256}"
SPEED_ALGOS="${SPEED_ALGOS:-macflow bc}"
COMPILE="${COMPILE:-}"               # train_speed.py modes timed (default: sync off graph on CUDA, off on on CPU;
                                     # add `on` where time allows: a cold torch.compile of the update took 2-4
                                     # minutes on CPU, 12 of them here; on CUDA not yet timed)
if [ -z "$COMPILE" ]; then
  if [ "$DEVICE" = "cpu" ]; then COMPILE="off on"; else COMPILE="sync off graph"; fi
fi
TRAIN_COMPILE="${TRAIN_COMPILE:-}"   # the headline runs' train --compile (default: graph on CUDA, off on CPU)
if [ -z "$TRAIN_COMPILE" ]; then
  if [ "$DEVICE" = "cpu" ]; then TRAIN_COMPILE="off"; else TRAIN_COMPILE="graph"; fi
fi
PRECISION="${PRECISION:-}"          # train --precision modes timed (default: fp32 tf32 bf16 on CUDA, fp32 bf16 on CPU)
if [ -z "$PRECISION" ]; then
  if [ "$DEVICE" = "cpu" ]; then PRECISION="fp32 bf16"; else PRECISION="fp32 tf32 bf16"; fi
fi
SEEDS="${SEEDS:-8}"                 # seeds stacked in one update for the speed table ("": none)
OUT="${OUT:-benchmarks/results/gpu_check}"
EPISODES="${EPISODES:-}"            # dataset size when a suite is recorded (default: the scenario's)
REF_EPISODES="${REF_EPISODES:-1024}"
PY="${PYTHON:-python}"
mkdir -p "$OUT/runs" "$OUT/logs"
START=$(date +%s)
echo "== gpu_check: device $DEVICE, preset $PRESET, $BUDGET s per run, results in $OUT"
"$PY" -c "import torch, platform; print('torch', torch.__version__, '|', torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor() or 'cpu')" | tee "$OUT/machine.txt"

PRESETS="small"
[ "$PRESET" != "small" ] && PRESETS="small $PRESET"
# shellcheck disable=SC2086
"$PY" benchmarks/train_speed.py --device "$DEVICE" --algos $SPEED_ALGOS --presets $PRESETS \
    --updates "$UPDATES" --warmup 2 --compile $COMPILE --precision $PRECISION ${SEEDS:+--seeds $SEEDS} --out "$OUT/speed.md"

HOME_DIR="${MACFLOW_ARENA_HOME:-$HOME/.macflow_arena}"
HEADLINE=("particle/spread expert" "particle/tag medium" "skirmish/3m medium")
for item in "${HEADLINE[@]}"; do
  read -r env level <<<"$item"
  name="$(echo "$env" | tr '/' '-')-v0-$level"
  if [ ! -f "$HOME_DIR/datasets/$name/manifest.jsonl" ]; then
    "$PY" -m macflow_arena record "$env" --suite ${EPISODES:+--episodes "$EPISODES"} \
        --reference-episodes "$REF_EPISODES" --quiet >/dev/null
  fi
  for algo in macflow bc; do
    run="$OUT/runs/$(echo "$env" | tr '/' '-')-$level-$algo"
    log="$OUT/logs/$(basename "$run").log"
    rm -rf "$run"
    train() {
      "$PY" -m macflow_arena train "$env" --dataset "$name" --algo "$algo" --preset "$PRESET" --device "$DEVICE" \
          --steps 1000000 --time-limit "$BUDGET" --eval-every 0 --eval-episodes "$EVAL_EPISODES" --ckpt-every 0 \
          --no-progress --no-tensorboard --compile "$1" --out "$run"
    }
    if ! train "$TRAIN_COMPILE" > "$log" 2>&1; then  # a capture that fails must not cost the table
      echo "   $run: --compile $TRAIN_COMPILE failed ($(tail -n 1 "$log")); again with --compile off"
      rm -rf "$run"
      train off > "$log" 2>&1 || { tail -n 5 "$log"; exit 1; }
    fi
    tail -n 1 "$log"
  done
done

"$PY" - "$OUT" "$PRESET" "$BUDGET" <<'PYEOF'
import json, sys
from pathlib import Path
out, preset, budget = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
lines = [f"# Headline datasets, {preset} preset, {budget} s of updates per run", "",
         "| run | compile | updates | updates/s | normalized [95% CI] | win rate |", "|---|---|---|---|---|---|"]
for run in sorted((out / "runs").iterdir()):
    evals = [json.loads(x) for x in (run / "eval.jsonl").read_text().splitlines() if x.strip()]
    metrics = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]
    ev, step = evals[-1], metrics[-1]["step"]
    cfg = json.loads((run / "config.json").read_text())
    ups = step / float(cfg["train"]["time_limit"])
    lo, hi = ev.get("normalized_ci95", [float("nan")] * 2)
    win = f"{ev['win_rate']:.2f}" if "win_rate" in ev else "-"
    lines.append(f"| {run.name} | {cfg['train']['compile']} | {step} | {ups:.1f} | {ev.get('normalized_score', float('nan')):.1f} [{lo:.1f}, {hi:.1f}] | {win} |")
text = "\n".join(lines) + "\n"
(out / "summary.md").write_text(text)
print(text)
PYEOF
echo "== gpu_check done in $(( $(date +%s) - START )) s: $OUT/speed.md, $OUT/summary.md"
