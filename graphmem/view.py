"""A self-contained HTML view of a graph: inline SVG + a small force layout in plain JavaScript.

Nothing is fetched from the network, so the file opens offline. Retired triples are drawn dashed.
"""
from __future__ import annotations

import html
import json

from .store.base import GraphStore

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;display:flex;height:100vh}
#side{width:300px;padding:12px;overflow:auto;border-right:1px solid #ddd}
svg{flex:1}.n circle{fill:#4a7bd0;stroke:#fff}.n text{font-size:11px}
line{stroke:#999}line.old{stroke-dasharray:4 3;stroke:#d55}.sel circle{fill:#e8a33d}
</style></head><body>
<div id="side"><h3>__TITLE__</h3><p>__SUMMARY__</p>
<label><input type="checkbox" id="old"> show retired facts</label>
<p><input id="q" placeholder="find entity" style="width:95%"></p><div id="info">Click a node.</div></div>
<svg id="g"></svg>
<script>
const data = __DATA__;
const svg = document.getElementById('g'), NS = 'http://www.w3.org/2000/svg';
const W = () => svg.clientWidth || 900, H = () => svg.clientHeight || 700;
const nodes = data.nodes.map((n, i) => ({id: n, x: W()/2 + 200*Math.cos(i), y: H()/2 + 200*Math.sin(i), vx: 0, vy: 0}));
const idx = Object.fromEntries(nodes.map((n, i) => [n.id, i]));
let showOld = false, lines = [], labels = [];
function draw() {
  svg.innerHTML = '';
  const edges = data.edges.filter(e => showOld || e.until === null);
  lines = edges.map(e => { const l = document.createElementNS(NS, 'line'); if (e.until !== null) l.classList.add('old');
    const t = document.createElementNS(NS, 'title'); t.textContent = `${e.s} ${e.r} ${e.o} [${e.from}, ${e.until ?? 'now'})`;
    l.appendChild(t); svg.appendChild(l); return [l, e]; });
  labels = nodes.map(n => { const g = document.createElementNS(NS, 'g'); g.classList.add('n');
    const c = document.createElementNS(NS, 'circle'); c.setAttribute('r', 6);
    const t = document.createElementNS(NS, 'text'); t.textContent = n.id; t.setAttribute('x', 8); t.setAttribute('y', 4);
    g.append(c, t); g.onclick = () => select(n.id); svg.appendChild(g); return [g, n]; });
}
function select(name) {
  labels.forEach(([g, n]) => g.classList.toggle('sel', n.id === name));
  const facts = data.edges.filter(e => e.s === name || e.o === name);
  document.getElementById('info').innerHTML = '<b>' + esc(name) + '</b><ul>' + facts.map(e =>
    `<li${e.until !== null ? ' style="color:#d55"' : ''}>${esc(e.s)} <i>${esc(e.r)}</i> ${esc(e.o)} (step ${e.from}${e.until !== null ? '&ndash;' + e.until : '+'})</li>`).join('') + '</ul>';
}
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c])); }
function tick() {
  const k = 60;
  for (const a of nodes) { for (const b of nodes) { if (a === b) continue;
    const dx = a.x - b.x, dy = a.y - b.y, d2 = dx*dx + dy*dy + 0.01; if (d2 > 90000) continue;
    a.vx += k*k*dx/d2*0.05; a.vy += k*k*dy/d2*0.05; } }
  for (const e of data.edges) { const a = nodes[idx[e.s]], b = nodes[idx[e.o]];
    const dx = b.x - a.x, dy = b.y - a.y, d = Math.sqrt(dx*dx + dy*dy) + 0.01, f = (d - k) * 0.01;
    a.vx += f*dx/d; a.vy += f*dy/d; b.vx -= f*dx/d; b.vy -= f*dy/d; }
  for (const n of nodes) { n.vx += (W()/2 - n.x)*0.002; n.vy += (H()/2 - n.y)*0.002;
    n.x += n.vx; n.y += n.vy; n.vx *= 0.6; n.vy *= 0.6; }
  for (const [l, e] of lines) { const a = nodes[idx[e.s]], b = nodes[idx[e.o]];
    l.setAttribute('x1', a.x); l.setAttribute('y1', a.y); l.setAttribute('x2', b.x); l.setAttribute('y2', b.y); }
  for (const [g, n] of labels) g.setAttribute('transform', `translate(${n.x},${n.y})`);
}
let steps = 0; function loop() { tick(); if (++steps < 400) requestAnimationFrame(loop); }
document.getElementById('old').onchange = e => { showOld = e.target.checked; draw(); steps = 0; loop(); };
document.getElementById('q').oninput = e => { const v = e.target.value.toLowerCase();
  const hit = nodes.find(n => n.id.toLowerCase().includes(v)); if (v && hit) select(hit.id); };
draw(); loop();
</script></body></html>
"""


def render_html(store: GraphStore, title: str = "graphmem graph", max_edges: int = 5000) -> str:
    """The page as a string; at most ``max_edges`` triples (current ones first) to stay usable."""
    triples = store.triples(current_only=True)
    retired = [t for t in store.triples(current_only=False) if not t.current]
    shown = (triples + retired)[:max_edges]
    nodes = sorted({n for t in shown for n in (t.subject, t.object)})
    edges = [{"s": t.subject, "r": t.relation, "o": t.object, "from": t.valid_from, "until": t.valid_until}
             for t in shown]
    counts = store.counts()
    summary = (f"{counts['current_triples']} current facts, {counts['triples'] - counts['current_triples']}"
               f" retired, {counts['entities']} entities, {counts['episodes']} episodes"
               + (f"; showing the first {max_edges} facts" if len(triples) + len(retired) > max_edges else ""))
    # "</" inside a <script> would end it early: escape it in the JSON.
    payload = json.dumps({"nodes": nodes, "edges": edges}, ensure_ascii=False).replace("</", "<\\/")
    return (_PAGE.replace("__TITLE__", html.escape(title)).replace("__SUMMARY__", html.escape(summary))
            .replace("__DATA__", payload))
