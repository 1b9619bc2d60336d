#!/usr/bin/env bash
# Set up (idempotent) and run the main job on the embedded defaults: build a graph from the sample
# corpus shipped in examples/ and answer a Cypher query over it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
gm=.venv/bin/graphmem
mkdir -p out
$gm build examples/sample_corpus.json --out out/sample_graph.json
echo "Where was Marie Curie born? (Cypher)"
$gm cypher --graph out/sample_graph.json \
  "MATCH (p)-[r]->(place) WHERE p.name = 'marie curie' AND r.relation = 'born in' RETURN place.name"
