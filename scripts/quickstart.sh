#!/usr/bin/env bash
# Set up (idempotent) and run the main job on the embedded defaults (local LLM, embedded store, no
# key): play one episode of a small generated cooking game with the Ariadne agent, then build a graph
# from the sample corpus shipped in examples/ and answer a Cypher query over it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
gm=.venv/bin/graphmem
mkdir -p out
# The local 1.5B model on 2 cores takes a few seconds a step; Ariadne wins this game in about six.
$gm play --game "tw-cooking:recipe=1,take=1,go=1" --agent ariadne --max-steps "${QUICKSTART_STEPS:-8}" \
  --log out/quickstart-play.jsonl --force   # --force: a rerun starts the logged episode over
$gm build examples/sample_corpus.json --out out/sample_graph.json --force
echo "Where was Marie Curie born? (Cypher)"
$gm cypher --graph out/sample_graph.json \
  "MATCH (p)-[r]->(place) WHERE p.name = 'marie curie' AND r.relation = 'born in' RETURN place.name"
