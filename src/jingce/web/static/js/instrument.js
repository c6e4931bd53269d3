/* Instrument page: the traceability chain as a layered graph, from the instrument up to the SI. */
(function () {
  "use strict";
  const {T, api, esc, fmtDate, palette} = window.JC;
  const root = document.getElementById("instrument-page");
  const id = Number(root.dataset.instrument);
  const el = document.getElementById("chain-graph");
  const graph = echarts.init(el);
  window.addEventListener("resize", () => graph.resize());
  const LEVEL = {working: 0, reference_standard: 1, provincial_standard: 2, national_standard: 3};
  const BAD = new Set(["expired", "out_of_tolerance", "missing", "cycle"]);

  /* The chain endpoint gives nodes/edges (or, in its first form, nodes/links); normalise both. */
  function normalise(ch) {
    const names = new Map((ch.nodes || []).map((n) => [String(n.instrument_id ?? n.id), n.name]));
    const g = ch.graph || {};
    const nodes = (g.nodes || ch.nodes || []).map((n) => {
      const nid = String(n.id ?? n.instrument_id);
      return {id: nid, label: n.code ?? n.label, name: names.get(nid) || "", kind: n.kind,
        level: typeof n.level === "number" ? n.level : (LEVEL[n.kind] ?? 1), status: n.status || "ok", lab: n.lab || ""};
    });
    const raw = g.edges || (ch.links || []).map((l) => ({from: l.instrument_id, to: l.standard_id,
      certificate: l.certificate_no, valid_until: l.valid_until, status: l.status}));
    const edges = raw.map((e) => ({from: String(e.from), to: e.to === null || e.to === undefined ? null : String(e.to),
      certificate: e.certificate, valid_until: e.valid_until, status: e.status || "ok"}));
    /* a calibration missing altogether has no edge in the graph form: draw it to an unknown standard */
    const hasOut = new Set(edges.map((e) => e.from));
    nodes.forEach((n) => {
      if (n.kind !== "national_standard" && !hasOut.has(n.id)) {
        const link = (ch.links || []).find((l) => String(l.instrument_id) === n.id) || {};
        edges.push({from: n.id, to: null, certificate: link.certificate_no || null, valid_until: link.valid_until || null,
          status: link.status && link.status !== "ok" ? link.status : "missing"});
      }
    });
    return {nodes, edges};
  }

  function draw(ch) {
    const {nodes, edges} = normalise(ch);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    edges.filter((e) => e.to === null).forEach((e, i) => {
      const from = byId.get(e.from);
      const m = {id: "missing-" + i, label: "?", name: T("link.missing"), kind: "missing",
        level: (from ? from.level : 0) + 1, status: "missing"};
      nodes.push(m); byId.set(m.id, m); e.to = m.id;
    });
    const top = Math.max(3, ...nodes.map((n) => n.level)) + 1;
    nodes.filter((n) => n.kind === "national_standard").forEach((n, i) => {
      if (i === 0) nodes.push({id: "SI", label: "SI", name: "International System of Units", kind: "si", level: top, status: "ok"});
      edges.push({from: n.id, to: "SI", status: "ok", certificate: "", valid_until: null});
    });
    const levels = {};
    nodes.forEach((n) => { (levels[n.level] = levels[n.level] || []).push(n); });
    const ranks = Object.keys(levels).map(Number).sort((a, b) => a - b);
    const W = 1000, H = 100 * ranks.length;
    ranks.forEach((lv, r) => levels[lv].forEach((n, i) => {
      n.x = (W * (i + 1)) / (levels[lv].length + 1);
      n.y = H - 100 * r - 50;
    }));
    const out = {};
    edges.forEach((e) => { if (e.certificate || BAD.has(e.status)) out[e.from] = e; });
    const linkText = (e) => (BAD.has(e.status) ? T("link." + e.status) + " · " : "") + (e.certificate || "") +
      (e.valid_until ? " → " + fmtDate(e.valid_until) : "");
    const brokenNodes = new Set(edges.filter((e) => BAD.has(e.status)).map((e) => e.from));
    const data = nodes.map((n) => ({
      id: n.id, name: n.id, x: n.x, y: n.y,
      symbol: n.kind === "si" ? "diamond" : n.kind === "national_standard" ? "roundRect" : "circle",
      symbolSize: n.kind === "si" ? 34 : n.id === String(id) ? 30 : 24,
      itemStyle: {color: n.kind === "missing" || n.status !== "ok" ? palette.red : n.kind === "si" ? palette.brand :
        n.kind === "national_standard" ? "#3d6fb6" : n.id === String(id) ? palette.blue : "#7ea3d6",
        borderColor: brokenNodes.has(n.id) ? palette.red : "#fff", borderWidth: 2},
      label: {show: true, position: "right", distance: 8,
        formatter: () => "{a|" + n.label + "}" + (n.name && n.kind !== "si" ? " {k|" + n.name + "}" : "") +
          (T("kind." + n.kind) !== "kind." + n.kind ? "\n{k|" + T("kind." + n.kind) + "}" : "") +
          (out[n.id] ? "\n{" + (BAD.has(out[n.id].status) ? "bad" : "ok") + "|" + linkText(out[n.id]) + "}" : ""),
        rich: {a: {color: palette.ink, fontSize: 12, fontWeight: "bold", lineHeight: 16},
          k: {color: palette.muted, fontSize: 11, lineHeight: 15},
          ok: {color: palette.green, fontSize: 11, lineHeight: 15},
          bad: {color: palette.red, fontSize: 11, lineHeight: 15, fontWeight: "bold"}}},
      tooltip: {formatter: () => "<b>" + esc(n.label) + "</b> " + esc(n.name) + (n.lab ? "<br>" + esc(n.lab) : "")},
      jcStatus: n.status,
    }));
    /* two invisible anchors keep the layout box wide when every level holds one node */
    [["anchor-l", 0], ["anchor-r", W]].forEach(([aid, x]) => data.push({id: aid, name: aid, x: x, y: H / 2,
      symbolSize: 0, label: {show: false}, tooltip: {show: false}, silent: true, itemStyle: {opacity: 0}}));
    const links = edges.map((e) => ({
      source: e.from, target: e.to, jcStatus: e.status,
      lineStyle: BAD.has(e.status) ? {color: palette.red, type: "dashed", width: 2.5, opacity: 0.95} :
        {color: e.to === "SI" ? "#9fb3cc" : palette.green, width: 1.8, opacity: 0.9},
    }));
    graph.setOption({
      animation: false,
      tooltip: {},
      series: [{type: "graph", layout: "none", data: data, links: links, roam: true, edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 8, left: 40, right: 160, top: 30, bottom: 30, lineStyle: {curveness: 0.05}}],
    }, true);
    const broken = edges.some((e) => BAD.has(e.status));
    const s = document.getElementById("chain-status");
    s.innerHTML = '<span class="pill ' + (broken ? "pill-red" : "pill-green") + '">' +
      esc(T(broken ? "inst.broken" : "inst.unbroken")) + "</span>";
    root.dataset.chain = broken ? "broken" : "unbroken";
  }

  api("/api/v1/instruments/" + id + "/chain").then(draw).catch((e) => {
    el.innerHTML = '<div class="alert alert-error">' + esc(T("common.load_failed")) + ": " + esc(e.message) + "</div>";
  });
})();
