// Log service (#/logservice): every consumer group of every logstore with
// its backlog per shard (logs after the checkpoint), who runs each shard
// and the live consumers; and the IoT data forwarding rules into
// logstores, with a form to set one and a button to delete it.
import { h, api, enc, fmtNum, fmtTime, table, card, field, showError, clearError } from './lib.js';

export function logServicePage() {
  const cards = h('div', { class: 'cards' },
    card('Log service groups', '—', 'ls-total-groups'), card('Backlog (log groups)', '—', 'ls-total-backlog'),
    card('Live consumers', '—', 'ls-total-consumers'), card('Forwarding rules', '—', 'ls-total-forwards'));
  const groupsBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const shardsBox = h('div');
  const forwardsBox = h('div');
  const form = forwardForm(() => refresh());
  const el = h('section', {},
    h('h1', {}, 'Log service'),
    h('p', { class: 'muted' }, 'Consumer groups of the log service (the SDK\'s consumer library heartbeats and checkpoints through HTTP_PROXY). The backlog of a shard counts the log groups after the group\'s checkpoint.'),
    cards, h('h2', {}, 'Consumer groups'), groupsBox, h('h2', {}, 'Shards'), shardsBox,
    h('h2', {}, 'IoT data forwarding'),
    h('p', { class: 'muted' }, 'A product\'s device messages forwarded into a logstore, each as one log (at least once).'),
    forwardsBox, form.el);

  async function refresh() {
    const [gs, fs] = await Promise.all([api('GET', '/api/v1/logservice/consumergroups'), api('GET', '/api/v1/logforwards')]);
    const groups = gs.groups || [];
    const forwards = fs.forwards || [];
    setText('ls-total-groups', fmtNum(groups.length));
    setText('ls-total-backlog', fmtNum(groups.reduce((n, g) => n + g.backlog, 0)));
    setText('ls-total-consumers', fmtNum(groups.reduce((n, g) => n + g.consumers.length, 0)));
    setText('ls-total-forwards', fmtNum(forwards.length));
    groupsBox.replaceChildren(groups.length === 0 ? h('p', { id: 'no-log-groups' }, 'No log service consumer group yet.') :
      table([['Project'], ['Logstore'], ['Group'], ['Backlog', 'num'], ['Live consumers'], ['Timeout (s)', 'num'], ['In order']],
        groups.map((g) => h('tr', { 'data-log-group': `${g.project}/${g.logstore}/${g.name}` },
          h('td', { class: 'wrap' }, g.project), h('td', { class: 'wrap' }, g.logstore), h('td', { class: 'wrap' }, g.name),
          h('td', { class: 'num', 'data-backlog': '' }, fmtNum(g.backlog)),
          h('td', { class: 'wrap' }, g.consumers.length === 0 ? '—' : g.consumers.map((c) => `${c.name} (shards ${c.held.join(', ') || 'none'}, seen ${fmtTime(c.lastSeen)})`).join('; ')),
          h('td', { class: 'num' }, fmtNum(g.timeout)), h('td', {}, g.order ? 'yes' : 'no'))), null, { stacked: true }));
    const shards = groups.flatMap((g) => g.shards.map((s) => [g, s]));
    shardsBox.replaceChildren(shards.length === 0 ? h('p', {}, 'None.') :
      table([['Group'], ['Shard', 'num'], ['Backlog', 'num'], ['Run by'], ['Checkpoint'], ['Saved by']],
        shards.map(([g, s]) => h('tr', { 'data-log-shard': `${g.project}/${g.logstore}/${g.name}/${s.shard}` },
          h('td', { class: 'wrap' }, `${g.project}/${g.logstore}/${g.name}`), h('td', { class: 'num' }, s.shard),
          h('td', { class: 'num' }, fmtNum(s.backlog)), h('td', { class: 'wrap' }, s.owner || '—'),
          h('td', { class: 'mono wrap' }, s.checkpoint || '—'), h('td', { class: 'wrap' }, s.consumer || '—'))), null, { stacked: true }));
    forwardsBox.replaceChildren(forwards.length === 0 ? h('p', { id: 'no-log-forwards' }, 'No product forwards its messages to the log service.') :
      table([['Product key'], ['Project'], ['Logstore'], ['Message kinds'], ['Not yet forwarded', 'num'], ['Created'], ['']],
        forwards.map((f) => h('tr', { 'data-log-forward': f.productKey },
          h('td', { class: 'mono wrap' }, f.productKey), h('td', { class: 'wrap' }, f.project), h('td', { class: 'wrap' }, f.logstore),
          h('td', {}, f.kinds.join(', ')), h('td', { class: 'num' }, fmtNum(f.backlog)), h('td', {}, fmtTime(f.createdAt)),
          h('td', { class: 'row-actions' }, h('button', { type: 'button', class: 'secondary', 'data-delete': f.productKey, onclick: () => remove(f.productKey) }, 'Delete')))),
        null, { stacked: true }));
  }

  async function remove(pk) {
    if (!window.confirm(`Stop forwarding the messages of product ${pk} to the log service?`)) return;
    try {
      await api('DELETE', `/api/v1/products/${enc(pk)}/logforward`);
      clearError();
      await refresh();
    } catch (e) { showError(e); }
  }

  return { el, refresh, dispose() {} };
}

function setText(id, text) { document.getElementById(id).textContent = text; }

// forwardForm sets a product's rule: product key, project, logstore (the
// kinds stay the API's default, data).
function forwardForm(saved) {
  const input = (id, placeholder) => h('input', { type: 'text', id, required: true, placeholder, autocomplete: 'off' });
  const pk = input('fwd-product', 'product key');
  const project = input('fwd-project', 'project');
  const logstore = input('fwd-logstore', 'logstore');
  const result = h('p', { id: 'fwd-result', class: 'muted', 'aria-live': 'polite' });
  async function save() {
    const key = pk.value.trim();
    if (!key) { showError(new Error('type the product key first')); return; }
    try {
      const f = await api('PUT', `/api/v1/products/${enc(key)}/logforward`, { project: project.value.trim(), logstore: logstore.value.trim() });
      clearError();
      result.textContent = `Saved: ${f.productKey} forwards ${f.kinds.join(', ')} to ${f.project}/${f.logstore}.`;
      await saved();
    } catch (e) { showError(e); }
  }
  const el = h('div', { class: 'form', id: 'fwd-form' }, h('h2', {}, 'Forward a product to a logstore'),
    h('div', { class: 'grid' }, field('Product key', pk), field('Project', project), field('Logstore', logstore, 'It must exist.')),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'fwd-save', onclick: save }, 'Save rule')), result);
  return { el };
}
