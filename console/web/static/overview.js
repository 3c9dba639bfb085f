// The overview (#/): every consumer group with its backlog, rates and
// clients; totals and the ingest rate; listeners, the access key and the
// generic queues.
import { h, api, enc, fmtNum, fmtTime, table, card } from './lib.js';

export function overviewPage() {
  const cards = h('div', { class: 'cards' },
    card('Consumer groups', '—', 'total-groups'), card('Accumulation (messages)', '—', 'total-acc'),
    card('Online clients', '—', 'total-clients'), card('Ingest rate (msg/min)', '—', 'ingest-rate'),
    card('Ingested since start', '—', 'ingested'));
  const groupsBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const listenersBox = h('div');
  const keyBox = h('div');
  const queuesBox = h('div');
  const el = h('section', {},
    h('h1', {}, 'Consumer groups'), cards, groupsBox,
    h('div', { class: 'lists' },
      h('div', {}, h('h2', {}, 'Listeners'), listenersBox, h('h2', {}, 'Access key'), keyBox),
      h('div', {}, h('h2', {}, 'Generic queues'), h('p', { class: 'muted' }, 'Addresses consumed that are not consumer groups (a misspelled group name shows up here).'), queuesBox)));
  let keyShown = '';

  async function refresh() {
    const [list, info, queues] = await Promise.all([
      api('GET', '/api/v1/groups?pageSize=1000'), api('GET', '/api/v1/info'), api('GET', '/api/v1/queues')]);
    const groups = list.groups || [];
    const statuses = await Promise.all(groups.map((g) => api('GET', `/api/v1/groups/${enc(g.id)}/status`)));
    groupsBox.replaceChildren(groupsTable(groups, statuses));
    const clients = statuses.reduce((n, s) => n + (s.clients || []).length, 0);
    const acc = statuses.reduce((n, s) => n + s.accumulation, 0);
    setText('total-groups', fmtNum(list.total ?? groups.length));
    setText('total-acc', fmtNum(acc));
    setText('total-clients', fmtNum(clients));
    setText('ingest-rate', fmtNum(info.ingestRate));
    setText('ingested', fmtNum(info.ingested));
    document.getElementById('version').textContent = info.version ? `version ${info.version}` : '';
    const ls = Object.entries(info.listeners || {}).sort();
    listenersBox.replaceChildren(table([['Listener'], ['Address']], ls.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', { class: 'mono' }, v)))));
    const key = `${info.accessKeyId}\n${info.accessKeySecret}`;
    if (key !== keyShown) { // rebuilt only on change, so a selection survives the poll
      keyShown = key;
      keyBox.replaceChildren(accessKey(info));
    }
    const qs = queues.queues || [];
    queuesBox.replaceChildren(qs.length === 0 ? h('p', {}, 'None.') :
      table([['Address'], ['Accumulation', 'num'], ['Online clients', 'num']], qs.map((q) => h('tr', {},
        h('td', { class: 'mono' }, q.address), h('td', { class: 'num' }, fmtNum(q.accumulation)), h('td', { class: 'num' }, fmtNum(q.onlineClients))))));
  }
  return { el, refresh, dispose() {} };
}

function setText(id, text) { document.getElementById(id).textContent = text; }

function groupsTable(groups, statuses) {
  const rows = groups.map((g, i) => {
    const s = statuses[i];
    return h('tr', { 'data-group': g.id },
      h('td', {}, h('a', { href: `#/groups/${enc(g.id)}` }, g.id)),
      h('td', {}, g.name),
      h('td', { class: 'num' }, fmtNum(s.accumulation)),
      h('td', { class: 'num' }, fmtNum(s.realtimeRate)),
      h('td', { class: 'num' }, fmtNum(s.backlogRate)),
      h('td', { class: 'num' }, fmtNum((s.clients || []).length)),
      h('td', {}, fmtTime(s.lastConsumedAt)));
  });
  const sum = (f) => statuses.reduce((n, s) => n + f(s), 0);
  const foot = h('tr', {}, h('td', { colspan: 2 }, `Total (${groups.length} groups)`),
    h('td', { class: 'num', id: 'total-accumulation' }, fmtNum(sum((s) => s.accumulation))),
    h('td', { class: 'num' }, fmtNum(sum((s) => s.realtimeRate))), h('td', { class: 'num' }, fmtNum(sum((s) => s.backlogRate))),
    h('td', { class: 'num' }, fmtNum(sum((s) => (s.clients || []).length))), h('td'));
  return table([['ID'], ['Name'], ['Accumulation', 'num'], ['Realtime rate (msg/min)', 'num'],
    ['Backlog rate (msg/min)', 'num'], ['Online clients', 'num'], ['Last consumption']], rows, foot);
}

// accessKey shows the key id (and the secret when it is the public dev
// one, as the start-up log does) with buttons that copy them.
function accessKey(info) {
  const rows = [['Access key id', info.accessKeyId, 'key-id']];
  if (info.accessKeySecret) rows.push(['Access key secret', info.accessKeySecret, 'key-secret']);
  const note = info.accessKeySecret ? 'The public development key: clients sign with it, the API beyond loopback asks for it.'
    : 'The secret is the one given with --access-key-secret; it is not shown here.';
  return h('div', {}, rows.filter(([, v]) => v).map(([label, value, id]) => {
    const input = h('input', { type: 'text', id, readonly: true, value, 'aria-label': label, class: 'mono copy-value' });
    const done = h('span', { class: 'muted', 'aria-live': 'polite' });
    return h('div', { class: 'controls' }, h('label', { for: id }, label), input,
      h('button', { type: 'button', class: 'secondary', onclick: () => copy(input, done) }, 'Copy'), done);
  }), h('p', { class: 'muted' }, note));
}

// copy uses the clipboard API where the page may (localhost is a secure
// context), else selects the text for the user's own copy.
async function copy(input, done) {
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    done.textContent = 'Copied.';
  } catch {
    done.textContent = 'Selected: press Ctrl+C to copy.';
  }
}
