// senderlab's %%sender widget: the pipeline as a graph, its trace animated.
// Pure SVG, no build step, no network. The Python side (widget.py) documents the
// traits and messages; recorder.py the graph layout and the 28-byte event records.

const NS = "http://www.w3.org/2000/svg";
const STRIDE = 7; // float32 time, then int32: node, kind, lane, payload, scheduler, op
const KIND = ["connect", "start", "set_value", "set_error", "set_stopped", "stop_request"];
const STATE = ["hidden", "connected", "started", "value", "error", "stopped"];
const CHANNEL_COLOUR = { 2: "var(--sl-value)", 3: "var(--sl-error)", 4: "var(--sl-stopped)" };
const LANE_OFFSET = { 2: -6, 3: 0, 4: 6 }; // each channel travels in its own lane
const THREAD_COLOURS = ["#5aa9ff", "#c792ea", "#4dd0e1", "#ffcb6b", "#f78c6c", "#addb67", "#ff80ab", "#82aaff"];
const COLW = 150, ROWH = 58, NW = 112, NH = 30, PAD = 22;
const POOL = 40; // travelling dots drawn at most at once
const BUCKETS = 360; // columns of the thread-lane timeline
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16];
const ICONS = {
  play: "M4 2.5v11l9.5-5.5z",
  pause: "M3.5 2.5h3v11h-3z|M9.5 2.5h3v11h-3z",
  restart: "M2.5 2.5h2v11h-2z|M14 2.5v11L5.5 8z",
  step: "M2 2.5v11L10.5 8z|M11.5 2.5h2v11h-2z",
  stop: "M3.5 3.5h9v9h-9z",
};

function svg(tag, attrs = {}, parent = null) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

function html(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function asArrayBuffer(view) {
  // ipywidgets hands over DataViews whose offset may not be 4-aligned: copy.
  if (!view) return new ArrayBuffer(0);
  if (view instanceof ArrayBuffer) return view.slice(0);
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}

class Flow {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.cap = 0;
    this.n = 0;
    this.f32 = new Float32Array(0);
    this.i32 = new Int32Array(0);
    this.strings = [];
    this.p = 0;
    this.playing = false;
    this.raf = 0;
    this.lastTs = 0;
    this.frames = 0;
    this.applied = 0;
    this.detailNode = -1;
    this.build();
    this.setGraph(model.get("graph"));
    const trace = model.get("trace");
    if (trace && trace.byteLength) {
      this.loadFinal();
    } else {
      this.onMsg = (msg, buffers) => this.receive(msg, buffers);
      model.on("msg:custom", this.onMsg);
      model.send({ type: "ready" });
    }
    // a new graph (more nodes, new lanes): replay the events up to the playhead on it
    this.onGraph = () => { const p = this.p; this.setGraph(this.model.get("graph")); this.reset(); this.seek(p); };
    this.onTrace = () => this.loadFinal();
    this.onStatus = () => this.updateHeader();
    model.on("change:graph", this.onGraph);
    model.on("change:trace", this.onTrace);
    model.on("change:status", this.onStatus);
    this.onChain = () => this.redrawAll();
    model.on("change:error_chain", this.onChain);
    this.updateHeader();
    const speed = model.get("speed") || 1;
    this.speed = speed;
    this.speedSel.value = String(SPEEDS.reduce((a, b) => Math.abs(b - speed) < Math.abs(a - speed) ? b : a));
    if (!model.get("animate")) {
      this.seek(this.n);
    } else {
      const fin = model.get("finished_at") || 0;
      const stale = fin > 0 && Date.now() - fin > 30000; // a reopened notebook, a static page
      if (stale) {
        // the final picture at once; played from the start the first time it comes into view
        this.seek(this.n);
        this.replayWhenSeen();
      } else this.play();
    }
  }

  replayWhenSeen() {
    if (typeof IntersectionObserver === "undefined") return;
    this.seen = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      this.seen.disconnect();
      this.seen = null;
      this.seek(0);
      this.play();
    }, { threshold: 0.35 });
    this.seen.observe(this.root);
  }

  // -- the DOM skeleton ------------------------------------------------------------------
  build() {
    const root = this.root = html("div", "sl-flow", this.el);
    const head = html("div", "sl-head", root);
    this.titleEl = html("pre", "sl-title", head);
    this.statusEl = html("span", "sl-status", head);
    this.resultEl = html("code", "sl-result", head);
    this.resultEl.title = "click to show it whole";
    this.resultEl.addEventListener("click", () => this.resultEl.classList.toggle("sl-open"));
    this.note = html("div", "sl-note", root);

    const stage = this.stage = html("div", "sl-stage", root);
    this.svg = svg("svg", { class: "sl-graph", role: "img" }, stage);
    this.gEdges = svg("g", { class: "sl-edges" }, this.svg);
    this.gNodes = svg("g", { class: "sl-nodes" }, this.svg);
    this.gFlights = svg("g", { class: "sl-flights" }, this.svg);
    this.dots = [];
    for (let k = 0; k < POOL; k++) {
      // a halo is a wide translucent stroke: an SVG blur filter per dot costs too much
      this.dots.push(svg("circle", { r: 5, class: "sl-dot", visibility: "hidden" }, this.gFlights));
    }

    // thread lanes: names in HTML, the timeline an SVG stretched to the width left
    const lanes = html("div", "sl-lanes", root);
    this.laneNames = html("div", "sl-lane-names", lanes);
    this.lanesSvg = svg("svg", { class: "sl-lane-plot", preserveAspectRatio: "none" }, lanes);
    this.gLaneRows = svg("g", {}, this.lanesSvg);
    this.gBuckets = svg("g", {}, this.lanesSvg);
    this.playhead = svg("line", { class: "sl-playhead", "vector-effect": "non-scaling-stroke" }, this.lanesSvg);

    const bar = html("div", "sl-controls", root);
    const button = (icon, title, fn) => {
      const b = html("button", "sl-btn", bar);
      b.title = title;
      b.dataset.action = title.split(" ")[0];
      this.setIcon(b, icon);
      b.addEventListener("click", fn);
      return b;
    };
    button("restart", "restart from the first event", () => { this.pause(); this.seek(0); });
    this.playBtn = button("play", "play / pause", () => (this.playing ? this.pause() : this.play()));
    button("step", "step one event", () => { this.pause(); this.seek(Math.min(this.n, Math.floor(this.p) + 1)); });
    this.speedSel = html("select", "sl-speed", bar);
    this.speedSel.title = "speed";
    for (const s of SPEEDS) {
      const o = html("option", null, this.speedSel, `${s}×`);
      o.value = String(s);
    }
    this.speedSel.addEventListener("change", () => { this.speed = parseFloat(this.speedSel.value); });
    this.scrub = html("input", "sl-scrub", bar);
    Object.assign(this.scrub, { type: "range", min: 0, max: 0, step: 1, value: 0 });
    this.scrub.addEventListener("input", () => { this.pause(); this.seek(parseInt(this.scrub.value, 10)); });
    this.counter = html("span", "sl-counter", bar, "0 / 0");
    this.stopBtn = button("stop", "stop: request stop on the running operation", () => this.model.send({ type: "stop" }));
    this.stopBtn.classList.add("sl-stop");
    this.stopBtn.appendChild(document.createTextNode(" stop"));

    this.caption = html("div", "sl-caption", root, " ");
    this.detail = html("pre", "sl-detail", root);
    this.detail.title = "click to close";
    this.detail.addEventListener("click", () => { this.detail.style.display = "none"; this.detailNode = -1; });
    const legend = html("div", "sl-legend", root);
    for (const [cls, text] of [["connect", "connect (receiver ←)"], ["start", "start"], ["value", "set_value"],
      ["error", "set_error"], ["stopped", "set_stopped / stop"]]) {
      const item = html("span", `sl-key sl-key-${cls}`, legend);
      html("i", null, item);
      item.appendChild(document.createTextNode(text));
    }
    this.stack = html("div", "sl-stack", root);
  }

  setIcon(button, name) {
    // drawn, not typed: the media-control characters are missing from many fonts
    const icon = svg("svg", { viewBox: "0 0 16 16", width: 12, height: 12, class: "sl-icon" });
    for (const d of ICONS[name].split("|")) svg("path", { d }, icon);
    const old = button.querySelector("svg");
    if (old) old.replaceWith(icon); else button.prepend(icon);
    button.dataset.icon = name;
  }

  // -- the graph ---------------------------------------------------------------------------
  setGraph(g) {
    this.kids = null;
    if (!g || !g.alg) g = { alg: ["sync_wait"], parent: [-1], kind: ["consumer"], op: [0], seq: [0], col: [0],
      row: [0], cols: 1, rows: 1, lanes: [] };
    const old = this.g;
    this.g = g;
    this.kids = null;
    const m = g.alg.length;
    const keep = old ? Math.min(old.alg.length, m) : 0;
    const grow = (a, T) => { const b = new T(m); if (a) b.set(a.subarray(0, keep)); return b; };
    this.st = grow(this.st, Int8Array);
    this.stopf = grow(this.stopf, Int8Array);
    this.lane = grow(this.lane, Int16Array);
    this.pay = grow(this.pay, Int32Array);
    this.cnt = grow(this.cnt, Int32Array);
    this.done = grow(this.done, Int32Array);
    for (let i = keep; i < m; i++) { this.lane[i] = -1; this.pay[i] = -1; }
    this.st[0] = Math.max(this.st[0], 1);
    // a loop's rounds drawn as its first round, with a count (collapsed), or each (expanded)
    if (this.collapsed === undefined) this.collapsed = true;
    const folded = this.collapsed && g.rep && g.rep.length === m;
    this.map = new Int32Array(m);
    for (let i = 0; i < m; i++) this.map[i] = folded ? g.rep[i] : i;
    const col = folded ? g.ccol : g.col, row = folded ? g.crow : g.row;
    const cols = folded ? g.ccols : g.cols, rows = folded ? g.crows : g.rows;
    // positions: sources on the left, the consumer on the right
    this.x = new Float32Array(m);
    this.y = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      this.x[i] = PAD + col[i] * COLW;
      this.y[i] = PAD + row[i] * ROWH;
    }
    const W = PAD * 2 + (cols - 1) * COLW + NW, H = PAD * 2 + (rows - 1) * ROWH + NH;
    this.svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    // never narrower than legible (the stage scrolls), never taller than a screenful
    this.svg.style.height = `${Math.min(Math.max(H, 70), 460)}px`;
    this.svg.style.maxWidth = `${W * 1.25}px`;
    this.svg.style.minWidth = `${Math.min(W, 40 + 0.8 * W * Math.min(1, 460 / H))}px`;
    this.showNote();
    this.drawGraph();
    this.drawLaneRows();
  }

  drawGraph() {
    const g = this.g, m = g.alg.length;
    this.gEdges.replaceChildren();
    this.gNodes.replaceChildren();
    this.nodeEls = new Array(m);
    this.edgeEls = new Array(m);
    this.edgeGeo = new Array(m);
    for (let i = 1; i < m; i++) {
      const p = g.parent[i];
      if (this.map[i] !== i) continue; // drawn on its loop's first round
      const x0 = this.x[i] + NW, y0 = this.y[i] + NH / 2, x1 = this.x[p], y1 = this.y[p] + NH / 2;
      const xm = (x0 + x1) / 2;
      this.edgeGeo[i] = [x0, y0, xm, x1, y1];
      const path = svg("path", { d: `M${x0},${y0} C${xm},${y0} ${xm},${y1} ${x1},${y1}` }, this.gEdges);
      this.edgeEls[i] = path;
    }
    this.shareEls = [];
    for (const [a, b] of g.share || []) { // split: the second consumer of one shared source
      const x0 = this.x[b] + NW, y0 = this.y[b] + NH / 2, x1 = this.x[a], y1 = this.y[a] + NH / 2;
      const xm = (x0 + x1) / 2;
      const path = svg("path", { d: `M${x0},${y0} C${xm},${y0} ${xm},${y1} ${x1},${y1}`, class: "sl-share" },
        this.gEdges);
      this.shareEls.push([b, path]);
    }
    for (let i = 0; i < m; i++) {
      const kind = g.kind[i];
      if (this.map[i] !== i) continue;
      const grp = svg("g", { transform: `translate(${this.x[i]},${this.y[i]})` }, this.gNodes);
      grp.dataset.alg = g.alg[i];
      grp.dataset.index = String(i);
      svg("rect", { width: NW, height: NH, rx: kind === "consumer" ? NH / 2 : 7 }, grp);
      const label = svg("text", { x: NW / 2, y: NH / 2 + 1, class: "sl-label" }, grp);
      label.textContent = kind === "fold" ? "+ more" : g.alg[i];
      if (g.alg[i].length > 11) { // squeeze long names (schedule_from, stopped_as_optional) into the box
        label.setAttribute("textLength", NW - 12);
        label.setAttribute("lengthAdjust", "spacingAndGlyphs");
      }
      grp._pay = svg("text", { x: 3, y: NH + 9, class: "sl-pay" }, grp);
      const sub = svg("text", { x: NW - 5, y: -4, class: "sl-sub" }, grp);
      sub.textContent = kind === "await" ? `await ${g.seq[i] + 1}${g.alg[i] === "schedule" ? " · hop" : ""}` : kind === "dynamic" ? "↳ inner" :
        kind === "consumer" ? "consumer" : g.op[i] ? `#${g.op[i]}` : "";
      const rounds = g.iters ? g.iters[i] : 0;
      if (rounds) { // the first round of a loop: its count; a click expands or collapses it
        grp.dataset.rounds = String(rounds);
        sub.textContent = this.collapsed ? `× ${rounds} rounds ▸` : `round 1 of ${rounds} ◂`;
        const ring = svg("rect", { x: 4, y: 4, width: NW, height: NH, rx: 7, class: "sl-stack-shadow" });
        if (this.collapsed) grp.prepend(ring);
      }
      grp._badge = svg("circle", { cx: 8, cy: 8, r: 4, class: "sl-badge" }, grp);
      grp._label = label;
      const title = svg("title", {}, grp);
      grp.addEventListener("mouseenter", () => { title.textContent = this.describeNode(i); });
      grp.addEventListener("click", () => {
        if (rounds) { this.toggleLoops(); return; }
        this.showDetail(i);
      });
      this.nodeEls[i] = grp;
    }
    this.redrawAll();
  }

  toggleLoops() {
    this.collapsed = !this.collapsed;
    const p = this.p;
    this.setGraph(this.g);
    this.reset();
    this.seek(p);
  }

  showDetail(i) {
    // the whole payload (the text under a box is cut to fit), the sender, the state
    this.detailNode = i;
    this.detail.textContent = this.describeNode(i);
    this.detail.style.display = "block";
  }

  showNote() {
    const t = this.g.truncated || {};
    const more = Object.values(t).reduce((a, b) => a + b, 0);
    if (!more) { this.note.style.display = "none"; return; }
    const kinds = Object.entries(t).map(([k, v]) => `${v.toLocaleString("en")} ${k}`).join(", ");
    this.note.textContent = `Trace capped at ${(this.g.max_events || 0).toLocaleString("en")} events: ` +
      `${more.toLocaleString("en")} more were not recorded (${kinds}); the result is the whole run's. ` +
      "%%sender --max-events N keeps more.";
    this.note.style.display = "block";
  }

  drawLaneRows() {
    const lanes = this.g.lanes || [];
    const h = Math.max(lanes.length, 1) * 16;
    this.lanesSvg.setAttribute("viewBox", `0 0 ${BUCKETS} ${h}`);
    this.lanesSvg.style.height = `${h}px`;
    this.gLaneRows.replaceChildren();
    this.laneNames.replaceChildren();
    lanes.forEach((name, k) => {
      svg("rect", { x: 0, y: k * 16 + 2, width: BUCKETS, height: 12, class: "sl-lane-bg" }, this.gLaneRows);
      const row = html("div", "sl-lane-name", this.laneNames);
      row.title = `thread ${name}`;
      row.dataset.thread = name;
      const dot = html("i", null, row);
      dot.style.background = THREAD_COLOURS[k % THREAD_COLOURS.length];
      row.appendChild(document.createTextNode(name));
    });
    this.playhead.setAttribute("y1", 0);
    this.playhead.setAttribute("y2", h);
    this.bucketsDirty = true;
  }

  describeNode(i) {
    const g = this.g;
    const lines = [g.kind[i] === "fold" ? `${this.cnt[i]} more operations (folded)` :
      `${g.alg[i]}${g.op[i] ? " #" + g.op[i] : ""}  (${g.kind[i]})`];
    if (g.label && g.label[i]) lines.push(g.label[i]);
    lines.push(`state: ${STATE[this.st[i]]}${this.stopf[i] ? ", stop requested" : ""}`);
    if (this.pay[i] >= 0) lines.push(`payload: ${this.strings[this.pay[i]]}`);
    if (this.lane[i] >= 0) lines.push(`completed on thread: ${(g.lanes || [])[this.lane[i]]}`);
    if (this.sched && this.sched[i] >= 0) lines.push(`scheduler: ${this.strings[this.sched[i]]}`);
    // the trace holds payloads abbreviated; the consumer has the result whole
    if (i === 0 && this.st[0] >= 3 && this.model.get("status") !== "running") lines.push(`result: ${this.model.get("result")}`);
    return lines.join("\n");
  }

  // -- data ----------------------------------------------------------------------------------
  ensure(total) {
    if (total <= this.cap) return;
    let cap = Math.max(1024, this.cap * 2);
    while (cap < total) cap *= 2;
    const buf = new ArrayBuffer(cap * STRIDE * 4);
    const f = new Float32Array(buf), i = new Int32Array(buf);
    i.set(this.i32.subarray(0, this.n * STRIDE));
    this.f32 = f; this.i32 = i; this.cap = cap;
  }

  append(start, buffer) {
    const ints = new Int32Array(asArrayBuffer(buffer));
    const count = ints.length / STRIDE;
    if (start > this.n) return; // a gap: wait for the catch-up a ready brings
    const skip = this.n - start;
    if (skip >= count) return;
    this.ensure(start + count);
    this.i32.set(skip ? ints.subarray(skip * STRIDE) : ints, this.n * STRIDE);
    this.n = start + count;
    this.bucketsDirty = true;
  }

  receive(msg, buffers) {
    if (!msg || msg.type !== "events") return;
    const final = this.model.get("trace");
    if (final && final.byteLength) return; // the whole trace is here already
    const s0 = msg.strings_start;
    for (let k = 0; k < msg.strings.length; k++) this.strings[s0 + k] = msg.strings[k];
    this.append(msg.start, buffers && buffers[0]);
    this.scrub.max = this.n;
    this.updateCounter();
    if (this.playing) this.kick();
  }

  loadFinal() {
    const trace = this.model.get("trace");
    if (!trace || !trace.byteLength) return;
    this.strings = this.model.get("strings").slice();
    this.n = 0;
    this.cap = 0;
    this.i32 = new Int32Array(0);
    this.append(0, trace);
    this.scrub.max = this.n;
    const p = Math.min(this.p, this.n);
    this.reset();
    this.seek(p);
    this.updateHeader();
    if (this.playing) this.kick();
  }

  // -- state at the playhead -----------------------------------------------------------------
  reset() {
    this.st.fill(0); this.stopf.fill(0); this.lane.fill(-1); this.pay.fill(-1); this.cnt.fill(0); this.done.fill(0);
    this.st[0] = 1;
    this.sched = new Int32Array(this.g.alg.length).fill(-1);
    this.applied = 0;
    this.dirtyAll = true;
  }

  apply(upto) {
    const i32 = this.i32, g = this.g, m = g.alg.length;
    if (!this.sched || this.sched.length !== m) {
      const s = new Int32Array(m).fill(-1);
      if (this.sched) s.set(this.sched.subarray(0, Math.min(m, this.sched.length)));
      this.sched = s;
    }
    const dirty = this.dirty || (this.dirty = new Set());
    for (let e = this.applied; e < upto; e++) {
      const o = e * STRIDE;
      let nd = i32[o + 1];
      const k = i32[o + 2];
      if (nd >= m) continue; // a node whose graph has not arrived yet
      nd = this.map[nd];
      dirty.add(nd);
      if (k === 0) {
        this.cnt[nd]++;
        if (this.st[nd] < 1) this.st[nd] = 1;
        if (i32[o + 5] >= 0) this.sched[nd] = i32[o + 5];
      } else if (k === 1) {
        if (this.st[nd] < 2) this.st[nd] = 2;
      } else if (k <= 4) {
        this.st[nd] = k + 1;
        this.done[nd]++;
        this.lane[nd] = i32[o + 3];
        this.pay[nd] = i32[o + 4];
        const par = g.parent[nd];
        if (par === 0) { this.st[0] = k + 1; this.pay[0] = i32[o + 4]; this.lane[0] = i32[o + 3]; dirty.add(0); }
      } else {
        this.stopf[nd] = 1;
      }
    }
    this.applied = upto;
  }

  seek(p) {
    p = Math.max(0, Math.min(p, this.n));
    const k = Math.floor(p);
    if (k < this.applied) this.reset();
    this.p = p;
    this.apply(k);
    this.render();
  }

  // -- drawing a frame ------------------------------------------------------------------------
  redrawAll() { this.dirtyAll = true; if (this.st) this.render(); }

  nodeClass(i) {
    const g = this.g;
    let c = `sl-node k-${g.kind[i]} s-${STATE[this.st[i]]}`;
    if (g.iters && g.iters[i]) c += " sl-loop";
    if (this.stopf[i]) c += " stopreq";
    if (this.chainSet && this.chainSet.has(i) && this.st[i] >= 3) c += " chain";
    return c;
  }

  render() {
    const m = this.g.alg.length;
    const all = this.dirtyAll;
    const chain = this.model.get("error_chain") || [];
    this.chainSet = new Set(chain);
    const todo = all ? Array.from({ length: m }, (_, i) => i) : Array.from(this.dirty || []);
    for (const i of todo) {
      const el = this.nodeEls[i];
      if (!el) continue;
      const cls = this.nodeClass(i);
      if (el.getAttribute("class") !== cls) el.setAttribute("class", cls);
      el.dataset.state = STATE[this.st[i]];
      if (this.g.kind[i] === "fold") el._label.textContent = `+${this.cnt[i]} more`;
      const pay = this.st[i] >= 3 && this.pay[i] >= 0 ? this.strings[this.pay[i]] || "" : "";
      const short = pay.length > 22 ? pay.slice(0, 21) + "…" : pay;
      if (el._pay.textContent !== short) el._pay.textContent = short;
      const badge = el._badge;
      if (this.lane[i] >= 0) {
        badge.setAttribute("fill", THREAD_COLOURS[this.lane[i] % THREAD_COLOURS.length]);
        badge.setAttribute("visibility", "visible");
      } else badge.setAttribute("visibility", "hidden");
      const edge = this.edgeEls[i];
      if (edge) {
        const ecls = `sl-edge s-${STATE[this.st[i]]}${cls.includes(" chain") ? " chain" : ""}` +
          (this.g.kind[i] === "dynamic" || this.g.kind[i] === "await" ? " dyn" : "");
        if (edge.getAttribute("class") !== ecls) edge.setAttribute("class", ecls);
      }
    }
    for (const [b, path] of this.shareEls || []) {
      const cls = `sl-share s-${STATE[this.st[b]]}`;
      if (path.getAttribute("class") !== cls) path.setAttribute("class", cls);
    }
    this.dirty && this.dirty.clear();
    this.dirtyAll = false;
    this.drawFlights();
    this.drawBuckets();
    const W = BUCKETS;
    const x = this.n ? (this.p / this.n) * W : 0;
    this.playhead.setAttribute("x1", x);
    this.playhead.setAttribute("x2", x);
    this.scrub.value = String(Math.floor(this.p));
    this.updateCounter();
    this.updateCaption();
    this.updateStack();
    this.updateHeader();
    if (this.detailNode >= 0 && this.detail.style.display === "block") this.detail.textContent = this.describeNode(this.detailNode);
  }

  flightLength() {
    // a flight lasts about half a second of wall time, at least one event
    return Math.max(1, this.rate() * 0.45);
  }

  drawFlights() {
    const L = this.flightLength();
    const p = this.p, i32 = this.i32, g = this.g, m = g.alg.length;
    let used = 0;
    if (!this.playing) { // a still picture shows states, not dots frozen in flight
      for (const d of this.dots) d.setAttribute("visibility", "hidden");
      this.dotsUsed = 0;
      return;
    }
    const last = Math.min(this.n - 1, Math.floor(p));
    const first = Math.max(0, Math.ceil(p - L));
    for (let e = last; e >= first && used < POOL; e--) {
      const o = e * STRIDE, k = i32[o + 2];
      let nd = i32[o + 1];
      if (nd >= m) continue;
      nd = this.map[nd];
      const t = (p - e) / L;
      if (t < 0 || t >= 1) continue;
      const dot = this.dots[used];
      let cx, cy, r = 5, colour, opacity = 1;
      if (k === 1 || (k === 5 && nd === 0)) { // start: a ring spreading from the node
        cx = this.x[nd] + NW / 2; cy = this.y[nd] + NH / 2;
        r = 8 + t * 40; opacity = 1 - t;
        colour = k === 1 ? "var(--sl-start)" : "var(--sl-stopped)";
        dot.setAttribute("class", "sl-ring");
      } else if (k === 5) {
        // A stop request: an algorithm that owns a stop source (when_all, when_any, ...)
        // sends it back to a child still running; the token a leaf asked the consumer
        // for carries it from the consumer down the chain to that leaf.
        const kids = this.children(nd);
        let chain;
        if (kids.length) {
          chain = [kids.find((c) => this.st[c] < 3) || kids[kids.length - 1]];
        } else {
          chain = [];
          for (let a = nd; a > 0 && this.edgeGeo[a]; a = g.parent[a]) chain.push(a);
        }
        if (!chain.length) continue;
        const pos = t * chain.length, s = Math.min(chain.length - 1, Math.floor(pos));
        [cx, cy] = this.onEdge(chain[chain.length - 1 - s], 1 - (pos - s));
        colour = "var(--sl-stopped)"; r = 5;
        dot.setAttribute("class", "sl-dot");
      } else {
        const fwd = k !== 0; // completions forward to the consumer; a connect's receiver backward
        if (nd === 0 || !this.edgeGeo[nd]) continue;
        [cx, cy] = this.onEdge(nd, fwd ? t : 1 - t);
        if (fwd) { cy += LANE_OFFSET[k]; colour = CHANNEL_COLOUR[k]; r = 5.5; }
        else { colour = "var(--sl-connect)"; r = 3.5; }
        dot.setAttribute("class", "sl-dot");
      }
      dot.setAttribute("cx", cx.toFixed(1));
      dot.setAttribute("cy", cy.toFixed(1));
      dot.setAttribute("r", r.toFixed(1));
      dot.style.stroke = colour;
      dot.style.fill = colour;
      dot.style.opacity = opacity;
      dot.setAttribute("visibility", "visible");
      used++;
    }
    for (let k = used; k < (this.dotsUsed || POOL); k++) this.dots[k].setAttribute("visibility", "hidden");
    this.dotsUsed = used;
  }

  children(i) {
    if (!this.kids || this.kids.length !== this.g.alg.length) {
      this.kids = this.g.alg.map(() => []);
      this.g.parent.forEach((p, c) => { if (p >= 0 && this.map[c] === c) this.kids[p].push(c); });
    }
    return this.kids[i];
  }

  onEdge(i, s) {
    // the point at eased fraction s along node i's edge (a cubic Bezier) to its consumer
    const [x0, y0, xm, x1, y1] = this.edgeGeo[i];
    const u = s * s * (3 - 2 * s), v = 1 - u;
    return [v * v * v * x0 + 3 * v * v * u * xm + 3 * v * u * u * xm + u * u * u * x1,
      v * v * v * y0 + 3 * v * v * u * y0 + 3 * v * u * u * y1 + u * u * u * y1];
  }

  drawBuckets() {
    if (!this.bucketsDirty) return;
    const now = performance.now();
    if (this.playing && this.model.get("status") === "running" && now - (this.bucketsAt || 0) < 250) return;
    this.bucketsDirty = false;
    this.bucketsAt = now;
    const lanes = (this.g.lanes || []).length || 1, n = this.n, i32 = this.i32;
    const best = new Int8Array(BUCKETS * lanes).fill(-1);
    const rank = [1, 2, 3, 6, 5, 4]; // which event a column shows: error > stopped > stop > value > ...
    for (let e = 0; e < n; e++) {
      const o = e * STRIDE, lane = i32[o + 3], k = i32[o + 2];
      if (lane >= lanes) continue;
      const b = Math.min(BUCKETS - 1, Math.floor((e / n) * BUCKETS)) * lanes + lane;
      if (best[b] < 0 || rank[k] > rank[best[b]]) best[b] = k;
    }
    const w = Math.max(1, BUCKETS / Math.max(n, 1));
    this.gBuckets.replaceChildren();
    const frag = document.createDocumentFragment();
    for (let b = 0; b < best.length; b++) {
      const k = best[b];
      if (k < 0) continue;
      const col = Math.floor(b / lanes), lane = b % lanes;
      const x = n < BUCKETS ? (Math.floor((col / BUCKETS) * n) / n) * BUCKETS : col;
      svg("rect", { x, y: lane * 16 + 3, width: Math.min(w, BUCKETS), height: 10, class: `sl-tick sl-tick-${KIND[k]}` },
        frag);
    }
    this.gBuckets.appendChild(frag);
  }

  updateCounter() {
    this.counter.textContent = `${Math.floor(this.p)} / ${this.n}`;
    this.scrub.max = this.n;
  }

  updateCaption() {
    const k = Math.floor(this.p) - 1;
    if (k < 0 || k >= this.n) {
      this.caption.textContent = this.n ? "▶ to watch: connect (receivers flow back), start, then completions flow forward" : "waiting for events…";
      return;
    }
    const o = k * STRIDE, i32 = this.i32, g = this.g;
    const nd = i32[o + 1], kind = KIND[i32[o + 2]], lane = i32[o + 3], pay = i32[o + 4];
    const name = nd < g.alg.length ? `${g.alg[nd]} #${i32[o + 6]}` : `#${i32[o + 6]}`;
    const thread = (g.lanes || [])[lane] || "?";
    const ms = this.f32[o].toFixed(3);
    const payload = pay >= 0 ? ` ${this.strings[pay]}` : "";
    this.caption.textContent = `event ${k + 1}: ${name} ${kind}${payload}  · thread ${thread} · t=${ms} ms`;
    this.caption.title = this.caption.textContent; // whole, where the line is cut
    this.caption.dataset.kind = kind;
  }

  updateStack() {
    const chain = this.model.get("error_chain") || [];
    const show = chain.length && this.st[chain[0]] === 4;
    this.stack.style.display = show ? "block" : "none";
    if (!show || this.stackShown === `${chain}:${this.applied === this.n}`) return;
    this.stackShown = `${chain}:${this.applied === this.n}`;
    this.stack.replaceChildren();
    html("div", "sl-stack-title", this.stack, "async stack trace — from the origin of set_error to the consumer");
    const ol = html("ol", null, this.stack);
    chain.forEach((i, pos) => {
      const g = this.g;
      const li = html("li", STATE[this.st[i]] === "error" ? "err" : "ok", ol);
      const what = pos === 0 ? "raised" : g.kind[i] === "consumer" ? "— the consumer gets it" :
        this.st[i] === 4 ? "passed on" : "handled it";
      const pay = this.pay[i] >= 0 ? this.strings[this.pay[i]] : "";
      li.textContent = `${g.alg[i]}${g.op[i] ? " #" + g.op[i] : ""} — ${STATE[this.st[i]]} ${what} ${pos === 0 ? pay : ""}`;
    });
  }

  updateHeader() {
    // the outcome shows once the consumer has completed at the playhead, not before:
    // the picture tells the ending when it gets there
    const status = this.model.get("status");
    const ended = status !== "running" && (this.st[0] >= 3 || this.p >= this.n);
    const shown = status === "running" ? "running" : ended ? status : "replaying";
    const title = this.model.get("title") || "";
    if (this.titleEl.textContent !== title) this.titleEl.textContent = title;
    if (this.statusEl.textContent !== shown) {
      this.statusEl.textContent = shown;
      this.statusEl.className = `sl-status sl-st-${shown}`;
    }
    const result = ended ? `→ ${this.model.get("result")}` : "";
    if (this.resultEl.textContent !== result) this.resultEl.textContent = result;
    this.root.dataset.status = status;
    this.root.dataset.shown = shown;
    this.stopBtn.style.display = status === "running" ? "" : "none";
  }

  // -- playing ----------------------------------------------------------------------------------
  rate() {
    // events per second: a few a second for a small pipeline, the whole run in ~8 s for a big one
    const n = Math.max(this.n, 1);
    return Math.max(5, n / 8) * this.speed;
  }

  play() {
    if (this.p >= this.n && this.model.get("status") !== "running") this.seek(0);
    this.playing = true;
    this.setIcon(this.playBtn, "pause");
    this.kick();
  }

  pause() {
    this.playing = false;
    this.setIcon(this.playBtn, "play");
  }

  kick() {
    if (this.raf) return;
    this.lastTs = performance.now();
    this.raf = requestAnimationFrame((ts) => this.frame(ts));
  }

  frame(ts) {
    this.raf = 0;
    this.frames++;
    this.root.dataset.frames = String(this.frames);
    const dt = Math.min(0.1, Math.max(0, (ts - this.lastTs) / 1000));
    this.lastTs = ts;
    let more = false;
    if (this.playing) {
      const target = Math.min(this.n, this.p + dt * this.rate());
      this.seek(target);
      if (this.p >= this.n && this.model.get("status") !== "running") {
        // let the last flights land, then stop
        this.tail = (this.tail || 0) + dt;
        if (this.tail > 0.6) { this.pause(); this.tail = 0; this.p = this.n; this.render(); } else more = true;
        this.p = this.n + (this.tail * this.rate());
        this.drawFlights();
        this.p = Math.min(this.p, this.n);
      }
      more = more || this.playing;
    }
    if (more) this.raf = requestAnimationFrame((t) => this.frame(t));
  }

  destroy() {
    if (this.raf) cancelAnimationFrame(this.raf);
    if (this.seen) this.seen.disconnect();
    this.playing = false;
    if (this.onMsg) this.model.off("msg:custom", this.onMsg);
    this.model.off("change:graph", this.onGraph);
    this.model.off("change:trace", this.onTrace);
    this.model.off("change:status", this.onStatus);
    this.model.off("change:error_chain", this.onChain);
  }
}

export default {
  render({ model, el }) {
    const flow = new Flow(model, el);
    return () => flow.destroy();
  },
};
