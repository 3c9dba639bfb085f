// The group page: status cards over two tabs, Status (#/groups/{id}:
// Clear / Delete / Reset / Rename, the live chart, the online clients) and
// Messages (#/groups/{id}/messages: peek at the backlog, publish a test
// device message).
import { h, api, enc, fmtNum, fmtTime, hex, table, card, options, showError, clearError } from './lib.js';

// tab is 'status' (the default) or 'messages'.
export function groupPage(id, tab = 'status') {
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
  const formatSel = h('select', { id: 'peek-format', 'aria-label': 'Show payloads as' },
    options([['text', 'text'], ['json', 'JSON (indented)'], ['hex', 'hex']], 'text'));
  const peekBtn = h('button', { type: 'button', id: 'peek', onclick: peek }, 'Peek');
  const peekBox = h('div', { id: 'peek-result' });
  const pubProduct = h('input', { type: 'text', id: 'pub-product', 'aria-label': 'Product key', placeholder: 'product key', required: true });
  const pubDevice = h('input', { type: 'text', id: 'pub-device', 'aria-label': 'Device name', placeholder: 'device name', required: true });
  const pubTopic = h('input', { type: 'text', id: 'pub-topic', 'aria-label': 'Topic', placeholder: '/pk/dn/user/update (default)' });
  const pubPayload = h('textarea', { id: 'pub-payload', 'aria-label': 'Payload', rows: 3, placeholder: '{"temperature": 21.5}' });
  const pubBtn = h('button', { type: 'button', id: 'publish', onclick: publish }, 'Publish');
  const pubResult = h('p', { id: 'publish-result', class: 'muted', 'aria-live': 'polite' });
  const statusTab = h('div', { id: 'tab-status' },
    h('div', { class: 'actions' }, clearBtn, deleteBtn),
    h('div', { class: 'controls' }, h('label', { for: 'reset-to' }, 'Reset to'), resetSel, resetTime, resetBtn),
    h('div', { class: 'controls' }, h('label', { for: 'rename-name' }, 'Rename to'), renameIn, renameBtn),
    h('h2', {}, 'Accumulation and consumption rate'),
    h('div', { class: 'controls' }, h('label', { for: 'window' }, 'Window'), windowSel), chartBox,
    h('h2', {}, 'Online clients'), clientsBox);
  const messagesTab = h('div', { id: 'tab-messages' },
    h('h2', {}, 'Peek at the backlog'),
    h('p', { class: 'muted' }, 'The next messages at the group\'s position, oldest first, without consuming them.'),
    h('div', { class: 'controls' }, h('label', { for: 'peek-count' }, 'Count'), countIn,
      h('label', { for: 'peek-format' }, 'Payload as'), formatSel, peekBtn), peekBox,
    h('h2', {}, 'Publish a test device message'),
    h('p', { class: 'muted' }, 'As if the device had sent it: it goes to every group subscribed to the product (this one only if it is).'),
    h('div', { class: 'controls' }, pubProduct, pubDevice, pubTopic), h('div', { class: 'controls' }, pubPayload, pubBtn), pubResult);
  const onMessages = tab === 'messages';
  const tabLink = (label, href, current) => h('a', { href, 'aria-current': current ? 'page' : null, id: `tab-link-${label.toLowerCase()}` }, label);
  const el = h('section', {},
    h('p', {}, h('a', { href: '#/' }, '← all consumer groups')), title, cards,
    h('nav', { class: 'tabs', 'aria-label': 'Group sections' }, tabLink('Status', `#/groups/${enc(id)}`, !onMessages),
      tabLink('Messages', `#/groups/${enc(id)}/messages`, onMessages)),
    onMessages ? messagesTab : statusTab);

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
    // In a cluster each client says which amqpemu node it is on.
    const clustered = cs.some((c) => c.node);
    const cols = [['Client id'], ['Address'], ...(clustered ? [['Node']] : []), ['Online since'],
      ['Realtime rate (msg/min)', 'num'], ['Backlog rate (msg/min)', 'num']];
    clientsBox.replaceChildren(cs.length === 0 ? h('p', {}, 'No client is connected.') :
      table(cols, cs.map((c) => h('tr', {}, h('td', { class: 'mono' }, c.clientId), h('td', { class: 'mono' }, c.address),
        ...(clustered ? [h('td', { class: 'mono' }, c.node)] : []),
        h('td', {}, fmtTime(c.onlineSince)), h('td', { class: 'num' }, fmtNum(c.realtimeRate)), h('td', { class: 'num' }, fmtNum(c.backlogRate))))));
  }

  const windowSeconds = () => ({ '15m': 900, '1h': 3600, '8h': 28800 })[windowSel.value];

  async function refreshChart() {
    const hist = await api('GET', `${path}/history?window=${enc(windowSel.value)}`);
    const pts = hist.points || [];
    const data = [pts.map((p) => Date.parse(p.time) / 1000), pts.map((p) => p.accumulation),
      pts.map((p) => p.realtimeRate), pts.map((p) => p.backlogRate)];
    if (!window.uPlot) throw new Error('the chart library (uPlot) did not load');
    // what the chart shows, for scripts and tests reading the page
    Object.assign(chartBox.dataset, { window: windowSel.value, points: pts.length, lastAccumulation: pts.length ? pts[pts.length - 1].accumulation : '' });
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
    await Promise.all([refreshStatus(), onMessages ? null : refreshChart()]);
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
          const [format, text, note] = showPayload(m, formatSel.value);
          return h('tr', {}, h('td', { class: 'mono' }, m.topic), h('td', { class: 'mono' }, m.messageId),
            h('td', {}, fmtTime(m.generateTime)),
            h('td', {}, h('pre', { class: 'payload', 'data-format': format }, text), note ? h('span', { class: 'muted' }, note) : null));
        }), null, { stacked: true }));
    } catch (e) { showError(e); }
  }

  return { el, refresh, dispose() { window.removeEventListener('resize', onResize); if (plot) plot.destroy(); } };
}

// showPayload renders a peeked payload as asked: [format, text, note].
// A payload that is not UTF-8 is always hex; one that is not JSON is
// shown as text when JSON was asked.
function showPayload(m, want) {
  const utf8 = m.payload !== null && m.payload !== undefined;
  if (want === 'hex' || !utf8) return ['hex', hex(m.payloadBase64), want === 'hex' ? '' : '(hex: not UTF-8)'];
  if (want === 'json') {
    try {
      return ['json', JSON.stringify(JSON.parse(m.payload), null, 2), ''];
    } catch {
      return ['text', m.payload, '(not JSON: shown as text)'];
    }
  }
  return ['text', m.payload, ''];
}
