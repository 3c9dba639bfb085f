// Shared helpers of the console's pages: building elements, calling the
// REST API, formatting, and the error banner.

// h builds an element; strings become text nodes (never HTML).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'value' || k === 'checked') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export class APIError extends Error {
  constructor(method, path, status, code, message) {
    super(`${method} ${path} failed: ${status}${code ? ' ' + code : ''}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

// api calls the REST API; a refusal throws an APIError that says, in
// words, what the server answered.
export async function api(method, path, body) {
  const opt = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, opt);
  } catch (e) {
    throw new APIError(method, path, 'no answer', '', `the emulator did not answer (${e.message})`);
  }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: shown as text below */ }
  if (!r.ok) {
    throw new APIError(method, path, r.status, data && data.code, (data && data.message) || text || r.statusText);
  }
  return data;
}

export const enc = encodeURIComponent;
export const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '—');
export const fmtNum = (n) => (n === undefined || n === null ? '—' : Number(n).toLocaleString('en-US'));

export function hex(b64) {
  const bin = atob(b64 || '');
  let out = '';
  for (let i = 0; i < bin.length; i++) out += bin.charCodeAt(i).toString(16).padStart(2, '0') + ' ';
  return out.trim();
}

// The banner: errors of the last poll are replaced by the next poll; errors
// of an action (Clear, Delete, Save…) stay until dismissed.
let bannerSource = '';
export function showError(err, source = 'action') {
  bannerSource = source;
  document.getElementById('banner-text').textContent = err instanceof Error ? err.message : String(err);
  document.getElementById('banner').hidden = false;
}
export function clearError(source) {
  if (source && bannerSource !== source) return;
  document.getElementById('banner').hidden = true;
  bannerSource = '';
}

// table lays rows out under headers ([label, class] pairs). A stacked
// table turns each row into a card of labelled lines on a phone (see
// style.css), for rows too wide to scroll through.
export function table(headers, rows, foot, { stacked = false } = {}) {
  const head = h('tr', {}, headers.map(([label, cls]) => h('th', { class: cls, scope: 'col' }, label)));
  if (stacked) {
    for (const row of rows) [...row.children].forEach((td, i) => { if (headers[i] && headers[i][0]) td.dataset.label = headers[i][0]; });
  }
  return h('div', { class: stacked ? 'scroll stacked' : 'scroll' },
    h('table', {}, h('thead', {}, head), h('tbody', {}, rows), foot ? h('tfoot', {}, foot) : null));
}

export function card(label, value, id) {
  return h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id }, value));
}

// field is a labelled form control, stacked label over control.
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', {}, label), control, hint ? h('small', { class: 'muted' }, hint) : null);
}

// options makes <option>s from [value, label] pairs (or plain values).
export function options(list, selected) {
  return list.map((o) => {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    return h('option', { value, selected: value === selected }, label);
  });
}
