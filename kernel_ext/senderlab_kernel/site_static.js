// senderlab's static pages (make site, site.py): draws every widget of an executed notebook
// from the widget state stored in the page, with no kernel and no network. The %%sender
// animations are flow.js itself (loaded before this file as window.senderlabFlow), given a
// read-only model of the stored state; they replay from the saved trace.
(function () {
  "use strict";
  const stateTag = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  const models = stateTag ? (JSON.parse(stateTag.textContent).state || {}) : {};

  function bytes(base64) {
    const s = atob(base64);
    const a = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
    return new DataView(a.buffer);
  }

  function stateOf(id) {
    const m = models[id];
    if (!m) return null;
    const state = Object.assign({}, m.state);
    for (const b of m.buffers || []) { // binary traits (the trace) travel as base64
      let obj = state;
      for (let k = 0; k < b.path.length - 1; k++) obj = obj[b.path[k]];
      obj[b.path[b.path.length - 1]] = bytes(b.data);
    }
    return { name: m.model_name, state };
  }

  function readOnlyModel(state) {
    // what flow.js asks of an anywidget model; nothing ever changes in a static page
    return { get: (k) => state[k], set() {}, save_changes() {}, on() {}, off() {}, send() {} };
  }

  function el(tag, cls, parent, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function childId(ref) {
    return typeof ref === "string" && ref.startsWith("IPY_MODEL_") ? ref.slice(10) : ref;
  }

  function renderOutput(out, host) {
    const data = out.data || {};
    if (out.output_type === "stream") el("pre", `sl-static-stream sl-${out.name}`, host, out.text);
    else if (out.output_type === "error") el("pre", "sl-static-stream sl-stderr", host, `${out.ename}: ${out.evalue}`);
    else if (data["text/html"] !== undefined) el("div", "sl-static-html", host).innerHTML = [].concat(data["text/html"]).join("");
    else if (data["text/plain"] !== undefined) el("pre", "sl-static-stream", host, [].concat(data["text/plain"]).join(""));
  }

  function render(id, host) {
    const m = stateOf(id);
    if (!m) {
      el("div", "sl-static-missing", host, "(this widget's state was not saved with the notebook)");
      return;
    }
    const s = m.state;
    for (const c of s._dom_classes || []) host.classList.add(c);
    if (s.graph !== undefined && s.trace !== undefined && window.senderlabFlow) { // a %%sender run
      host.classList.add("sl-static-flow");
      window.senderlabFlow.render({ model: readOnlyModel(s), el: host });
      if (s.status === "running") {
        el("div", "sl-static-live", host, "(this run was still going when the page was made: run the notebook to see it end)");
      }
      return;
    }
    switch (m.name) {
      case "HBoxModel": case "VBoxModel": case "BoxModel": case "GridBoxModel":
        host.classList.add(m.name === "HBoxModel" ? "sl-static-hbox" : "sl-static-vbox");
        for (const ref of s.children || []) render(childId(ref), el("div", "sl-static-child", host));
        return;
      case "HTMLModel": case "HTMLMathModel":
        host.innerHTML = s.value || "";
        return;
      case "LabelModel":
        host.textContent = s.value || "";
        return;
      case "OutputModel":
        for (const out of s.outputs || []) renderOutput(out, host);
        return;
      case "BokehModel":
        if (window.Bokeh && s.render_bundle) {
          const bundle = typeof s.render_bundle === "string" ? JSON.parse(s.render_bundle) : s.render_bundle;
          host.innerHTML = bundle.div;
          window.Bokeh.embed.embed_items(bundle.docs_json, bundle.render_items);
          return;
        }
        break;
      case "ButtonModel":
        el("button", "sl-static-control", host, s.description || "").disabled = true;
        return;
      case "ToggleButtonsModel": case "DropdownModel": case "RadioButtonsModel": case "SelectModel": {
        // the choices, the one made shown pressed; nothing to change without a kernel
        const row = el("div", "sl-static-choices", host);
        if (s.description) el("span", "sl-static-label", row, s.description);
        (s._options_labels || []).forEach((label, k) => {
          const b = el("button", k === s.index ? "sl-static-control sl-static-on" : "sl-static-control", row, label);
          b.disabled = true;
        });
        return;
      }
      case "FloatSliderModel": case "IntSliderModel": case "FloatLogSliderModel": {
        const row = el("label", "sl-static-control", host, s.description ? `${s.description} ` : "");
        const input = el("input", null, row);
        Object.assign(input, { type: "range", min: s.min, max: s.max, step: s.step || "any", value: s.value, disabled: true });
        el("span", "sl-static-value", row, ` ${s.value}`);
        return;
      }
      case "CheckboxModel": {
        const row = el("label", "sl-static-control", host);
        const input = el("input", null, row);
        Object.assign(input, { type: "checkbox", checked: !!s.value, disabled: true });
        row.appendChild(document.createTextNode(` ${s.description || ""}`));
        return;
      }
      default:
        if ("value" in s && m.name.endsWith("TextModel")) {
          const label = el("label", "sl-static-control", host, s.description ? `${s.description} ` : "");
          const input = el("input", null, label);
          input.value = String(s.value);
          input.disabled = true;
          return;
        }
    }
    el("div", "sl-static-live", host, "(a live control: run the notebook in JupyterLab to use it)");
  }

  for (const tag of document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')) {
    const view = JSON.parse(tag.textContent);
    const host = el("div", "sl-static-widget");
    tag.parentNode.insertBefore(host, tag);
    render(view.model_id, host);
  }
  document.documentElement.dataset.widgetsDrawn = "true";
})();
