#!/bin/bash
# kvmlab sweep as a Slurm job array: task k (SLURM_ARRAY_TASK_ID = k) runs shard
# k/SLURM_ARRAY_TASK_COUNT of the sweep into $RESULTS/<scenario>/shard-k (a shared file
# system); the same script with `merge` combines the shards once every task is done:
#
#   jobid=$(sbatch --parsable slurm-array.sh)
#   sbatch --array=0 --dependency=afterany:$jobid slurm-array.sh merge
#
# A task that is preempted or requeued (sbatch --requeue) resumes from the runs its shard
# directory already holds. A task exits 1 when one of its runs crashed (see summary.txt).
# Override SCENARIO, SEEDS, RESULTS or KVMLAB in the environment (sbatch --export=ALL,…);
# packages/cli/test/sweep-examples.test.ts runs this script locally with small SEEDS.
#SBATCH --job-name=kvmlab-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=3G
#SBATCH --time=02:00:00
#SBATCH --output=kvmlab-sweep-%A_%a.out
set -euo pipefail

KVMLAB=${KVMLAB:-kvmlab}
SCENARIO=${SCENARIO:-nested-migration}
SEEDS=${SEEDS:-0..999}
RESULTS=${RESULTS:-$HOME/kvmlab-sweeps}

if [ "${1:-}" = merge ]; then
  exec $KVMLAB sweep merge "$RESULTS/$SCENARIO"/shard-* --out "$RESULTS/$SCENARIO/merged" --report
fi

: "${SLURM_ARRAY_TASK_ID:?submit with sbatch (an array job sets SLURM_ARRAY_TASK_ID)}"
: "${SLURM_ARRAY_TASK_COUNT:?submit with sbatch --array}"
# --array=0-(N-1): task ids count from 0, like --shard's i.
exec nice -n 10 $KVMLAB sweep "$SCENARIO" --randomize --variant all --seeds "$SEEDS" --compact \
  --workers "${SLURM_CPUS_PER_TASK:-2}" \
  --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" \
  --out "$RESULTS/$SCENARIO/shard-$SLURM_ARRAY_TASK_ID"
