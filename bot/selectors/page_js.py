"""The JavaScript the robot runs inside a portal's page: one definition of "what an element looks like".

The same description serves three jobs, so they can never disagree: the recorder's fingerprint of a clicked
element, the run's search by fingerprint when every strategy failed, and the reading of tables and lists of
records (a column is known by the key a caseworker sees: a column header, a row header, a <dt>, a heading).
"""

from __future__ import annotations

HEADING_KEY = "(rubrik)"  # a record's heading (a card's <h3>) as a column key

# Helpers shared by every script below (prepended to each).
_COMMON = """
const HEADING = """ + '"' + HEADING_KEY + '"' + r""";
const clean = (el) => ((el && (el.innerText || el.textContent)) || "").replace(/\s+/g, " ").trim();
const IMPLICIT = {A: "link", BUTTON: "button", TEXTAREA: "textbox", SELECT: "combobox", TABLE: "table",
  UL: "list", OL: "list", LI: "listitem", NAV: "navigation", DD: "definition", DT: "term", TD: "cell",
  TH: "columnheader", H1: "heading", H2: "heading", H3: "heading", H4: "heading", H5: "heading", H6: "heading",
  P: "paragraph", FORM: "form", DIALOG: "dialog"};
const INPUT_ROLES = {checkbox: "checkbox", radio: "radio", submit: "button", button: "button", reset: "button",
  search: "searchbox", number: "spinbutton"};
const roleOf = (el) => {
  const explicit = el.getAttribute("role");
  if (explicit) return explicit.split(" ")[0];
  if (el.tagName === "INPUT") {
    const type = (el.type || "text").toLowerCase();
    return INPUT_ROLES[type] || (type === "hidden" ? null : "textbox");
  }
  if (el.tagName === "A" && !el.hasAttribute("href")) return null;
  return IMPLICIT[el.tagName] || null;
};
const labelOf = (el) => {
  if (el.labels && el.labels.length) return clean(el.labels[0]);
  // A value cell: the row header (th) of its row, or the term (dt) it belongs to.
  if (el.tagName === "TD") {
    const th = el.parentElement && el.parentElement.querySelector("th");
    return th ? clean(th) : null;
  }
  if (el.tagName === "DD") {
    let p = el.previousElementSibling;
    while (p && p.tagName !== "DT") p = p.previousElementSibling;
    return p ? clean(p) : null;
  }
  return null;
};
const nameOf = (el) => {
  const aria = el.getAttribute("aria-label");
  if (aria) return aria.trim();
  const by = el.getAttribute("aria-labelledby");
  if (by) return by.split(/\s+/).map((id) => clean(document.getElementById(id))).join(" ").trim();
  if (["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) {
    if (["submit", "button"].includes(el.type)) return el.value || null;
    return labelOf(el) || el.getAttribute("title") || el.getAttribute("placeholder") || null;
  }
  if (el.tagName === "TABLE") { return el.caption ? clean(el.caption) : null; }
  if (["A", "BUTTON", "H1", "H2", "H3", "H4", "H5", "H6", "TH", "LI", "OPTION"].includes(el.tagName)
      || ["button", "link", "tab", "menuitem", "status", "heading"].includes(el.getAttribute("role"))) {
    const text = clean(el); return text.length <= 120 ? text : null;
  }
  return null;
};
const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
  && getComputedStyle(el).visibility !== "hidden";
const nearOf = (el) => {
  // The closest heading or legend before the element, in document order.
  const all = Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6,legend"));
  let best = null;
  for (const h of all) {
    if (h === el || h.contains(el) || !visible(h)) continue;
    if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) best = h; else break;
  }
  return best ? clean(best) : null;
};
const STABLE = ["name", "type", "data-testid", "placeholder"];
const attrsOf = (el) => {
  const out = {};
  // The portal's own stable attributes (its selector file's stable_attributes), set by the recorder per frame.
  for (const a of STABLE.concat(window.__casebotStable || [])) { const v = el.getAttribute(a); if (v) out[a] = v; }
  const href = el.getAttribute("href");
  if (href && !href.startsWith("#") && !href.startsWith("javascript")) out.href = href.split("?")[0];
  return out;
};
// The key a record's value is known by: its column header, row header, term, or "(rubrik)" for a heading.
const keyOf = (el) => {
  if (/^H[1-6]$/.test(el.tagName)) return HEADING;
  if (el.tagName === "DT" || el.tagName === "TH") return clean(el);
  if (el.tagName === "DD") return labelOf(el);
  if (el.tagName === "TD") {
    const th = el.parentElement.querySelector(":scope > th");
    if (th) return clean(th);
    const table = el.closest("table");
    if (table && table.tHead) return clean(table.tHead.rows[0].cells[el.cellIndex]);
    // An older screen's table: its header is its first row, of plain cells.
    if (table && table.rows.length) return clean(table.rows[0].cells[el.cellIndex]);
  }
  return null;
};
// A table's column headers: its <thead>, or on an older screen (no <thead>, no <th>) its first row.
const headersOf = (table) => {
  if (table.tHead && table.tHead.rows.length) return Array.from(table.tHead.rows[0].cells).map(clean);
  if (table.rows.length && !table.querySelector(":scope > * > tr > th, :scope > tr > th"))
    return Array.from(table.rows[0].cells).map(clean);
  return [];
};
// The visible texts around a field on a screen without labels: the neighbouring cell or preceding sibling on
// its left, the cell above, and in a table its column header and its row's first cell (the anchors).
const besideOf = (el) => {
  const out = {};
  const text = (node) => { const t = node ? clean(node) : ""; return t && t.length <= 80 ? t : null; };
  const cell = el.closest("td,th");
  const left = text((cell || el).previousElementSibling);
  if (left) out.left = left;
  if (cell && cell.parentElement && cell.parentElement.cells) {
    const row = cell.parentElement, table = cell.closest("table"), i = cell.cellIndex;
    const above = row.previousElementSibling;
    if (above && above.cells && above.cells[i] && text(above.cells[i])) out.above = text(above.cells[i]);
    if (row.cells[0] !== cell && text(row.cells[0])) out.row = text(row.cells[0]);
    const head = table && table.rows[0] !== row ? table.rows[0].cells[i] : null;
    if (head && text(head)) out.column = text(head);
  }
  return out;
};
const describe = (el) => ({
  tag: el.tagName.toLowerCase(), role: roleOf(el), name: nameOf(el), label: labelOf(el), near: nearOf(el),
  beside: besideOf(el),
  attributes: attrsOf(el), id: el.id || null, text: clean(el).slice(0, 200),
  headers: el.tagName === "TABLE" ? headersOf(el) : [],
  key: keyOf(el),
});
"""

# (el) → the element's index among the elements of its tag in document order (to check a re-resolvable locator
# points at the element the fingerprint chose).
INDEX_OF_JS = "(el, tag) => Array.from(el.ownerDocument.querySelectorAll(tag || '*')).indexOf(el)"

# (root) → description of the element (recorder).
DESCRIBE_JS = "(el) => {" + _COMMON + "return describe(el); }"

# (root, fp) → {best, score, max, tie, top}: the document-order index among `fp.tag` elements of the visible element
# that matches the fingerprint best (-1 when none), its score, the most any element could score on the traits the
# fingerprint carries, whether another scored the same, and the three best as (index, score, text) for the
# message when nothing is good enough. A match needs a stable attribute, the name/label or a text beside it to
# agree; tag and role alone match too many things to heal anything.
FIND_BY_FINGERPRINT_JS = "(root, fp) => {" + _COMMON + r"""
  const doc = root.ownerDocument || document;
  const all = Array.from(doc.querySelectorAll(fp.tag || "*"));
  let max = 0;
  for (const k of Object.keys(fp.attributes || {})) max += (k === "type" ? 1 : 3);
  if (fp.name) max += 2;
  if (fp.label) max += 2;
  max += 2 * Object.keys(fp.beside || {}).length;
  if (fp.role) max += 1;
  if (fp.near) max += 1;
  const scored = [];
  all.forEach((el, index) => {
    if (!visible(el)) return;
    if (fp.role && roleOf(el) !== fp.role && !fp.tag) return;
    let strong = 0, score = 0;
    // Every attribute the fingerprint carries is compared, a portal's own stable ones (data-field-id …) too.
    for (const [k, v] of Object.entries(fp.attributes || {})) {
      if (el.getAttribute(k) === v) { score += (k === "type" ? 1 : 3); if (k !== "type") strong += 1; }
    }
    if (fp.name && nameOf(el) === fp.name) { score += 2; strong += 1; }
    if (fp.label && labelOf(el) === fp.label) { score += 2; strong += 1; }
    // On a screen without labels: the text beside it (left cell or sibling, column header + row key).
    const beside = besideOf(el);
    for (const [k, v] of Object.entries(fp.beside || {})) {
      if (beside[k] === v) { score += 2; if (k !== "above") strong += 1; }
    }
    if (fp.role && roleOf(el) === fp.role) score += 1;
    if (fp.near && nearOf(el) === fp.near) score += 1;
    if (!strong) return;
    const said = nameOf(el) || labelOf(el) || Object.values(beside).join(" / ") || el.getAttribute("name") || "";
    scored.push({index, score, text: said.slice(0, 60)});
  });
  scored.sort((a, b) => b.score - a.score);
  const first = scored[0];
  return {best: first ? first.index : -1, score: first ? first.score : 0, max,
          tie: scored.length > 1 && scored[1].score === first.score, top: scored.slice(0, 3)};
}"""

# (root) → {keys, records}: a table with a header row gives one record per body row keyed by the column headers
# (rows with fewer cells than headers, like "Inga …" colspan rows, are not data); a list (ul/ol) gives one record
# per item from its label/value pairs (dt/dd, th/td) and its heading; anything else is one record of its pairs.
RECORDS_JS = "(root) => {" + _COMMON + """
  const pairs = (el) => {
    const out = {};
    el.querySelectorAll("dt").forEach((dt) => {
      let dd = dt.nextElementSibling; if (dd && dd.tagName === "DD") out[clean(dt)] = clean(dd);
    });
    el.querySelectorAll("tr").forEach((tr) => {
      const th = tr.querySelector(":scope > th"), td = tr.querySelector(":scope > td");
      if (th && td) out[clean(th)] = clean(td);
    });
    const h = el.querySelector("h1,h2,h3,h4,h5,h6"); if (h) out[HEADING] = clean(h);
    return out;
  };
  if (root.tagName === "TABLE" && headersOf(root).length) {
    const head = headersOf(root);
    // With a <thead> the records are the body rows; on an older screen every row after the first.
    const rows = (root.tHead && root.tHead.rows.length
      ? Array.from(root.tBodies).flatMap((b) => Array.from(b.rows)) : Array.from(root.rows).slice(1))
      .map((r) => Array.from(r.cells).map(clean));
    const records = rows.filter((r) => r.length >= head.length)
      .map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
    return {keys: head, records};
  }
  let records;
  if (root.tagName === "UL" || root.tagName === "OL") records = Array.from(root.children).map(pairs);
  else records = [pairs(root)];
  const keys = Array.from(new Set(records.flatMap((r) => Object.keys(r))));
  return {keys, records};
}"""

# Installed in every frame of the page while recording: the next click (or Escape, to skip) is reported to the
# recorder through the exposed binding `__casebotPicked`, and does nothing else (no navigation, no submit).
# `mode` says what the click picks: an element, a whole table or list of records, or one record value's key.
PICKER_JS = "([mode, stable]) => {" + _COMMON + r"""
  window.__casebotStable = stable || [];
  if (window.__casebotPicker) { window.__casebotPicker.mode = mode; return; }
  const picker = window.__casebotPicker = {mode};
  const pick = (target) => {
    let el = target;
    if (el.tagName === "LABEL" && el.control) el = el.control;
    if (picker.mode === "records") el = el.closest("table, ul, ol, dl") || el;
    else if (picker.mode === "key") el = el.closest("th, td, dt, dd, h1, h2, h3, h4, h5, h6") || el;
    else el = el.closest("button, a, input, select, textarea, td, dd, th, dt, li, table, [role]") || el;
    window.__casebotTarget = el;
    return describe(el);
  };
  document.addEventListener("click", (event) => {
    event.preventDefault();
    event.stopPropagation();
    window.__casebotPicked(pick(event.target));
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); window.__casebotPicked(null); }
  }, true);
}"""

# The prompt shown on top of the page while recording (it ignores the mouse, so it never gets the click).
BANNER_JS = r"""(text) => {
  let banner = document.getElementById("__casebot_banner");
  if (!banner) {
    banner = document.createElement("div");
    banner.id = "__casebot_banner";
    banner.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:2147483647;pointer-events:none;" +
      "background:#1d3557;color:#fff;font:16px sans-serif;padding:8px 12px;opacity:.92";
    document.documentElement.appendChild(banner);
  }
  banner.textContent = text;
}"""

# Whether a candidate's element is the one that was clicked (in the frame the click came from).
IS_TARGET_JS = "(el) => el === window.__casebotTarget"
