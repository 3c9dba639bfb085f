// amqpemu web console: hash routes #/ (overview) and #/groups/{id} (one
// group), each polling the REST API every 5 s. Plain ES module, no build.
// Errors from the API are shown in words in the banner (role="alert").

const POLL_MS = 5000;

// ---------------------------------------------------------------- helpers

// h builds an element; strings become text nodes (never HTML).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

class APIError extends Error {
  constructor(method, path, status, code, message) {
    super(`${method} ${path} failed: ${status}${code ? ' ' + code : ''}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
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

const enc = encodeURIComponent;
const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '—');
const fmtNum = (n) => (n === undefined || n === null ? '—' : Number(n).toLocaleString('en-US'));

function hex(b64) {
  const bin = atob(b64 || '');
  let out = '';
  for (let i = 0; i < bin.length; i++) out += bin.charCodeAt(i).toString(16).padStart(2, '0') + ' ';
  return out.trim();
}

// The banner: errors of the last poll are replaced by the next poll; errors
// of an action (Clear, Delete, Peek) stay until dismissed.
let bannerSource = '';
function showError(err, source = 'action') {
  bannerSource = source;
  document.getElementById('banner-text').textContent = err instanceof Error ? err.message : String(err);
  document.getElementById('banner').hidden = false;
}
function clearError(source) {
  if (source && bannerSource !== source) return;
  document.getElementById('banner').hidden = true;
  bannerSource = '';
}

function table(headers, rows, foot) {
  const head = h('tr', {}, headers.map(([label, cls]) => h('th', { class: cls, scope: 'col' }, label)));
  return h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, head), h('tbody', {}, rows), foot ? h('tfoot', {}, foot) : null));
}

function card(label, value, id) {
  return h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id }, value));
}

// ---------------------------------------------------------------- pages

// A page is {el, refresh(), dispose()}; the router polls refresh.
function overviewPage() {
  const groupsBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const listenersBox = h('div');
  const queuesBox = h('div');
  const el = h('section', {},
    h('h1', {}, 'Consumer groups'), groupsBox,
    h('div', { class: 'lists' },
      h('div', {}, h('h2', {}, 'Listeners'), listenersBox),
      h('div', {}, h('h2', {}, 'Generic queues'), h('p', { class: 'muted' }, 'Addresses consumed that are not consumer groups (a misspelled group name shows up here).'), queuesBox)));

  async function refresh() {
    const [list, info, queues] = await Promise.all([
      api('GET', '/api/v1/groups'), api('GET', '/api/v1/info'), api('GET', '/api/v1/queues')]);
    const groups = list.groups || [];
    const statuses = await Promise.all(groups.map((g) => api('GET', `/api/v1/groups/${enc(g.id)}/status`)));
    const tot = { acc: 0, rt: 0, bl: 0, cl: 0 };
    const rows = groups.map((g, i) => {
      const s = statuses[i];
      const clients = (s.clients || []).length;
      tot.acc += s.accumulation; tot.rt += s.realtimeRate; tot.bl += s.backlogRate; tot.cl += clients;
      return h('tr', { 'data-group': g.id },
        h('td', {}, h('a', { href: `#/groups/${enc(g.id)}` }, g.id)),
        h('td', {}, g.name),
        h('td', { class: 'num' }, fmtNum(s.accumulation)),
        h('td', { class: 'num' }, fmtNum(s.realtimeRate)),
        h('td', { class: 'num' }, fmtNum(s.backlogRate)),
        h('td', { class: 'num' }, fmtNum(clients)),
        h('td', {}, fmtTime(s.lastConsumedAt)));
    });
    const foot = h('tr', {}, h('td', { colspan: 2 }, `Total (${groups.length} groups)`),
      h('td', { class: 'num', id: 'total-accumulation' }, fmtNum(tot.acc)), h('td', { class: 'num' }, fmtNum(tot.rt)),
      h('td', { class: 'num' }, fmtNum(tot.bl)), h('td', { class: 'num' }, fmtNum(tot.cl)), h('td'));
    groupsBox.replaceChildren(table([['ID'], ['Name'], ['Accumulation', 'num'], ['Realtime rate (msg/min)', 'num'],
      ['Backlog rate (msg/min)', 'num'], ['Online clients', 'num'], ['Last consumption']], rows, foot));

    document.getElementById('version').textContent = info.version ? `version ${info.version}` : '';
    const ls = Object.entries(info.listeners || {}).sort();
    listenersBox.replaceChildren(table([['Listener'], ['Address']], ls.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', { class: 'mono' }, v)))));
    const qs = queues.queues || [];
    queuesBox.replaceChildren(qs.length === 0 ? h('p', {}, 'None.') :
      table([['Address'], ['Accumulation', 'num'], ['Online clients', 'num']], qs.map((q) => h('tr', {},
        h('td', { class: 'mono' }, q.address), h('td', { class: 'num' }, fmtNum(q.accumulation)), h('td', { class: 'num' }, fmtNum(q.onlineClients))))));
  }
  return { el, refresh, dispose() {} };
}

function groupPage(id) {
  const path = `/api/v1/groups/${enc(id)}`;
  let group = null;
  let accumulation = 0;
  const title = h('h1', {}, id);
  const cards = h('div', { class: 'cards' },
    card('Accumulation (messages)', '—', 'accumulation'), card('Realtime rate (msg/min)', '—', 'realtime-rate'),
    card('Backlog rate (msg/min)', '—', 'backlog-rate'), card('Online clients', '—', 'online-clients'),
    card('Last consumption', '—', 'last-consumed'));
  const clearBtn = h('button', { type: 'button', id: 'clear', class: 'danger', hidden: true, onclick: clear }, 'Clear accumulated messages');
  const deleteBtn = h('button', { type: 'button', id: 'delete', class: 'secondary', onclick: del }, 'Delete group');
  const resetSel = h('select', { id: 'reset-to', 'aria-label': 'Reset the position to' },
    h('option', { value: 'earliest' }, 'the earliest retained message'), h('option', { value: 'latest' }, 'the latest (skip the backlog)'),
    h('option', { value: 'time' }, 'a time…'));
  const resetTime = h('input', { type: 'datetime-local', id: 'reset-time', step: 1, 'aria-label': 'Reset to this time (local)' });
  const resetBtn = h('button', { type: 'button', id: 'reset', class: 'secondary', onclick: reset }, 'Reset position');
  const renameIn = h('input', { type: 'text', id: 'rename-name', 'aria-label': 'New name', placeholder: 'new name', maxlength: 30 });
  const renameBtn = h('button', { type: 'button', id: 'rename', class: 'secondary', onclick: rename }, 'Rename');
  const windowSel = h('select', { id: 'window', 'aria-label': 'Chart window', onchange: () => refreshChart().catch((e) => showError(e, 'poll')) },
    h('option', { value: '15m' }, 'last 15 minutes'), h('option', { value: '1h' }, 'last hour'), h('option', { value: '8h' }, 'last 8 hours'));
  const chartBox = h('div', { class: 'chart', id: 'chart' });
  const clientsBox = h('div');
  const countIn = h('input', { type: 'number', id: 'peek-count', min: 1, max: 100, value: 10, 'aria-label': 'Number of messages to peek' });
  const hexBox = h('input', { type: 'checkbox', id: 'peek-hex' });
  const peekBtn = h('button', { type: 'button', id: 'peek', onclick: peek }, 'Peek');
  const peekBox = h('div', { id: 'peek-result' });
  const pubProduct = h('input', { type: 'text', id: 'pub-product', 'aria-label': 'Product key', placeholder: 'product key', required: true });
  const pubDevice = h('input', { type: 'text', id: 'pub-device', 'aria-label': 'Device name', placeholder: 'device name', required: true });
  const pubTopic = h('input', { type: 'text', id: 'pub-topic', 'aria-label': 'Topic', placeholder: '/pk/dn/user/update (default)' });
  const pubPayload = h('textarea', { id: 'pub-payload', 'aria-label': 'Payload', rows: 3, placeholder: '{"temperature": 21.5}' });
  const pubBtn = h('button', { type: 'button', id: 'publish', onclick: publish }, 'Publish');
  const pubResult = h('p', { id: 'publish-result', class: 'muted', 'aria-live': 'polite' });
  const el = h('section', {},
    h('p', {}, h('a', { href: '#/' }, '← all consumer groups')), title, cards,
    h('div', { class: 'actions' }, clearBtn, deleteBtn),
    h('div', { class: 'controls' }, h('label', { for: 'reset-to' }, 'Reset to'), resetSel, resetTime, resetBtn),
    h('div', { class: 'controls' }, h('label', { for: 'rename-name' }, 'Rename to'), renameIn, renameBtn),
    h('h2', {}, 'Accumulation and consumption rate'),
    h('div', { class: 'controls' }, h('label', { for: 'window' }, 'Window'), windowSel), chartBox,
    h('h2', {}, 'Online clients'), clientsBox,
    h('h2', {}, 'Messages'),
    h('p', { class: 'muted' }, 'Peek shows the next messages of the backlog, oldest first, without consuming them.'),
    h('div', { class: 'controls' }, h('label', { for: 'peek-count' }, 'Count'), countIn,
      h('label', {}, hexBox, ' payload as hex'), peekBtn), peekBox,
    h('h3', {}, 'Publish a test device message'),
    h('p', { class: 'muted' }, 'As if the device had sent it: it goes to every group subscribed to the product (this one only if it is).'),
    h('div', { class: 'controls' }, pubProduct, pubDevice, pubTopic), h('div', { class: 'controls' }, pubPayload, pubBtn), pubResult);

  let plot = null;
  const onResize = () => plot && plot.setSize({ width: chartBox.clientWidth, height: 240 });
  window.addEventListener('resize', onResize);

  async function refreshStatus() {
    const [g, s] = await Promise.all([api('GET', path), api('GET', `${path}/status`)]);
    group = g;
    accumulation = s.accumulation;
    title.textContent = g.name === g.id ? g.id : `${g.name} (${g.id})`;
    document.getElementById('accumulation').textContent = String(s.accumulation);
    document.getElementById('realtime-rate').textContent = fmtNum(s.realtimeRate);
    document.getElementById('backlog-rate').textContent = fmtNum(s.backlogRate);
    document.getElementById('online-clients').textContent = fmtNum((s.clients || []).length);
    document.getElementById('last-consumed').textContent = fmtTime(s.lastConsumedAt);
    clearBtn.hidden = !(s.accumulation > 0);
    const cs = s.clients || [];
    clientsBox.replaceChildren(cs.length === 0 ? h('p', {}, 'No client is connected.') :
      table([['Client id'], ['Address'], ['Online since'], ['Realtime rate (msg/min)', 'num'], ['Backlog rate (msg/min)', 'num']],
        cs.map((c) => h('tr', {}, h('td', { class: 'mono' }, c.clientId), h('td', { class: 'mono' }, c.address),
          h('td', {}, fmtTime(c.onlineSince)), h('td', { class: 'num' }, fmtNum(c.realtimeRate)), h('td', { class: 'num' }, fmtNum(c.backlogRate))))));
  }

  const windowSeconds = () => ({ '15m': 900, '1h': 3600, '8h': 28800 })[windowSel.value];

  async function refreshChart() {
    const hist = await api('GET', `${path}/history?window=${enc(windowSel.value)}`);
    const pts = hist.points || [];
    const data = [pts.map((p) => Date.parse(p.time) / 1000), pts.map((p) => p.accumulation),
      pts.map((p) => p.realtimeRate), pts.map((p) => p.backlogRate)];
    if (!window.uPlot) throw new Error('the chart library (uPlot) did not load');
    if (plot) { plot.setData(data); return; }
    plot = new window.uPlot({
      width: chartBox.clientWidth || 320, height: 240,
      series: [{}, { label: 'Accumulation', stroke: '#0b57d0', width: 2, scale: 'msgs' },
        { label: 'Realtime rate', stroke: '#188038', scale: 'rate' }, { label: 'Backlog rate', stroke: '#e37400', scale: 'rate' }],
      scales: { x: { time: true, range: () => { const now = Date.now() / 1000; return [now - windowSeconds(), now]; } }, msgs: { range: (u, min, max) => [0, Math.max(1, max)] }, rate: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { scale: 'msgs', label: 'messages' }, { scale: 'rate', side: 1, label: 'msg/min', grid: { show: false } }],
    }, data, chartBox);
  }

  async function refresh() {
    await Promise.all([refreshStatus(), refreshChart()]);
  }

  async function clear() {
    const name = group ? group.name : id;
    if (!window.confirm(`Clear the ${accumulation} accumulated messages of ${name}? They are dropped and cannot be received any more.`)) return;
    try {
      await api('POST', `${path}/clear`);
      clearError();
      await refreshStatus();
    } catch (e) { showError(e); }
  }

  async function reset() {
    const name = group ? group.name : id;
    let body = { to: resetSel.value };
    let what = resetSel.value === 'earliest' ? 'the earliest retained message' : 'the latest message';
    if (resetSel.value === 'time') {
      const ms = Date.parse(resetTime.value);
      if (!resetTime.value || Number.isNaN(ms)) { showError(new Error('choose the time to reset to')); return; }
      body = { timestamp: ms };
      what = new Date(ms).toLocaleString();
    }
    if (!window.confirm(`Reset ${name} to ${what}? Messages from there on are delivered again.`)) return;
    try {
      await api('POST', `${path}/reset`, body);
      clearError();
      await refreshStatus();
    } catch (e) { showError(e); }
  }

  async function rename() {
    const to = renameIn.value.trim();
    if (!to) { showError(new Error('type the new name first')); return; }
    try {
      await api('PATCH', path, { name: to });
      clearError();
      renameIn.value = '';
      await refreshStatus();
    } catch (e) { showError(e); }
  }

  async function del() {
    const name = group ? group.name : id;
    if (!window.confirm(`Delete the consumer group ${name}?`)) return;
    try {
      await api('DELETE', path);
      clearError();
      location.hash = '#/';
    } catch (e) { showError(e); }
  }

  async function publish() {
    const m = { productKey: pubProduct.value.trim(), deviceName: pubDevice.value.trim(), payload: pubPayload.value };
    if (pubTopic.value.trim()) m.topic = pubTopic.value.trim();
    if (!m.productKey || !m.deviceName) { showError(new Error('a product key and a device name are needed to publish')); return; }
    try {
      const r = await api('POST', '/api/v1/messages', m);
      clearError();
      pubResult.textContent = `Published, message id ${(r.messageIds || []).join(', ')}.`;
      await refreshStatus();
    } catch (e) { showError(e); }
  }

  async function peek() {
    try {
      const n = Math.min(100, Math.max(1, Number(countIn.value) || 10));
      const r = await api('GET', `${path}/messages?count=${n}`);
      const ms = r.messages || [];
      peekBox.replaceChildren(ms.length === 0 ? h('p', {}, 'The backlog is empty.') :
        table([['Topic'], ['Message id'], ['Generated'], ['Payload']], ms.map((m) => {
          const asHex = hexBox.checked || m.payload === null || m.payload === undefined;
          return h('tr', {}, h('td', { class: 'mono' }, m.topic), h('td', { class: 'mono' }, m.messageId),
            h('td', {}, fmtTime(m.generateTime)),
            h('td', {}, h('pre', { class: 'payload', 'data-format': asHex ? 'hex' : 'text' }, asHex ? hex(m.payloadBase64) : m.payload),
              asHex ? h('span', { class: 'muted' }, hexBox.checked ? '(hex)' : '(hex: not UTF-8)') : null));
        })));
    } catch (e) { showError(e); }
  }

  return { el, refresh, dispose() { window.removeEventListener('resize', onResize); if (plot) plot.destroy(); } };
}

// ---------------------------------------------------------------- router

let page = null;
let timer = null;

async function poll() {
  const p = page;
  try {
    await p.refresh();
    if (p === page) {
      clearError('poll');
      document.getElementById('updated').textContent = `Last refresh ${new Date().toLocaleTimeString()}.`;
    }
  } catch (e) {
    if (p === page) showError(e, 'poll');
  }
}

function route() {
  if (page) page.dispose();
  clearInterval(timer);
  clearError('poll');
  const m = location.hash.match(/^#\/groups\/([^/]+)$/);
  page = m ? groupPage(decodeURIComponent(m[1])) : overviewPage();
  document.getElementById('main').replaceChildren(page.el);
  poll();
  timer = setInterval(poll, POLL_MS);
}

document.getElementById('banner-close').addEventListener('click', () => clearError());
window.addEventListener('hashchange', route);
route();
