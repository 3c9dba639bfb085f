// Alert rules (#/alerts): the rules with each group's state, a form to
// create or edit one, delete, and a rule's recent notifications.
import { h, api, enc, fmtNum, fmtTime, table, field, options, showError, clearError } from './lib.js';

const METRICS = [['AccumulationCount', 'Accumulation (messages)'], ['ConsumerSpeed', 'Consumption rate (msg/min)'], ['OnlineClientCount', 'Online clients']];
const COMPARISONS = [['GreaterThanOrEqualToThreshold', '≥'], ['GreaterThanThreshold', '>'], ['LessThanOrEqualToThreshold', '≤'],
  ['LessThanThreshold', '<'], ['EqualToThreshold', '='], ['NotEqualToThreshold', '≠']];
const STATISTICS = ['Average', 'Maximum', 'Minimum'];
const label = (list, v) => (list.find(([k]) => k === v) || [v, v])[1];

export function alertsPage() {
  const listBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const historyBox = h('div', { id: 'alert-history' });
  const form = ruleForm(() => refresh());
  const el = h('section', {},
    h('h1', {}, 'Alert rules'),
    h('p', { class: 'muted' }, 'CloudMonitor-style rules on a group\'s accumulation, consumption rate or online clients; a breach for the set number of consecutive periods calls the webhook.'),
    listBox, historyBox, form.el);
  let shown = ''; // the rule whose notifications are shown

  async function refresh() {
    const [list, groups] = await Promise.all([api('GET', '/api/v1/alerts'), api('GET', '/api/v1/groups?pageSize=1000')]);
    const rules = list.alerts || [];
    const names = new Map((groups.groups || []).map((g) => [g.id, g.name]));
    listBox.replaceChildren(rules.length === 0 ? h('p', { id: 'no-alerts' }, 'No alert rule yet.') :
      table([['Name'], ['Group'], ['Condition'], ['Webhook'], ['State'], ['']], rules.map((r) => ruleRow(r, names)), null, { stacked: true }));
    form.update(groups.groups || []);
    if (shown && !rules.some((r) => r.id === shown)) shown = '';
    if (shown) await showHistory(shown, rules.find((r) => r.id === shown).name);
    else historyBox.replaceChildren();
  }

  function ruleRow(r, names) {
    const cond = `${r.statistics} ${label(METRICS, r.metric)} ${label(COMPARISONS, r.comparison)} ${fmtNum(r.threshold)} over ${r.period} s, ${r.times}× in a row`;
    return h('tr', { 'data-rule': r.id },
      h('td', {}, r.name, r.enabled ? null : h('span', { class: 'muted' }, ' (disabled)')),
      h('td', {}, r.group === '*' ? 'every group' : h('a', { href: `#/groups/${enc(r.group)}` }, names.get(r.group) || r.group)),
      h('td', {}, cond, h('br'), h('small', { class: 'muted' }, `active ${r.effectiveInterval}, muted ${r.silenceTime} s after a notification`)),
      h('td', { class: 'mono wrap' }, r.webhook, h('br'), h('small', { class: 'muted' }, r.webhookFormat)),
      h('td', { class: 'rule-state' }, (r.state || []).length === 0 ? h('span', { class: 'muted' }, 'no data yet') :
        r.state.map((s) => h('div', {}, h('span', { class: `state state-${s.state}` }, s.state), ' ', s.groupName || s.group,
          s.value === null ? '' : ` (${fmtNum(s.value)}${s.consecutive ? `, ${s.consecutive}× in a row` : ''})`))),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', class: 'secondary', 'data-history': r.id, onclick: () => { shown = r.id; showHistory(r.id, r.name).catch(showError); } }, 'Notifications'),
        h('button', { type: 'button', class: 'secondary', 'data-edit': r.id, onclick: () => form.edit(r) }, 'Edit'),
        h('button', { type: 'button', class: 'secondary', 'data-delete': r.id, onclick: () => remove(r) }, 'Delete')));
  }

  async function showHistory(id, name) {
    const r = await api('GET', `/api/v1/alerts/${enc(id)}/history`);
    const ns = r.notifications || []; // newest first, as the API answers
    historyBox.replaceChildren(h('h2', {}, `Recent notifications of ${name}`), ns.length === 0 ? h('p', {}, 'None sent yet.') :
      table([['Time'], ['Group'], ['State'], ['Value', 'num'], ['Webhook answer'], ['Attempts', 'num']], ns.map((n) => h('tr', {},
        h('td', {}, fmtTime(n.time)), h('td', {}, n.groupName || n.group), h('td', {}, h('span', { class: `state state-${n.alertState}` }, n.alertState)),
        h('td', { class: 'num' }, fmtNum(n.value)),
        h('td', { class: n.error ? 'wrap error' : '' }, n.error ? `failed: ${n.error}` : `HTTP ${n.httpStatus}`),
        h('td', { class: 'num' }, fmtNum(n.attempts))))));
  }

  async function remove(r) {
    if (!window.confirm(`Delete the alert rule ${r.name}?`)) return;
    try {
      await api('DELETE', `/api/v1/alerts/${enc(r.id)}`);
      clearError();
      if (form.editing() === r.id) form.reset();
      await refresh();
    } catch (e) { showError(e); }
  }

  return { el, refresh, dispose() {} };
}

// ruleForm creates a rule or edits one; the server checks every field and
// its refusal is shown in the banner.
function ruleForm(saved) {
  const title = h('h2', {}, 'New alert rule');
  const c = {
    name: h('input', { type: 'text', id: 'rule-name', required: true, maxlength: 64, placeholder: 'backlog high' }),
    group: h('select', { id: 'rule-group' }),
    metric: h('select', { id: 'rule-metric' }, options(METRICS, 'AccumulationCount')),
    statistics: h('select', { id: 'rule-statistics' }, options(STATISTICS, 'Average')),
    comparison: h('select', { id: 'rule-comparison' }, options(COMPARISONS, 'GreaterThanOrEqualToThreshold')),
    threshold: h('input', { type: 'number', id: 'rule-threshold', required: true, step: 'any', value: '1000' }),
    period: h('input', { type: 'number', id: 'rule-period', min: 5, max: 86400, value: '300' }),
    times: h('input', { type: 'number', id: 'rule-times', min: 1, max: 100, value: '3' }),
    silenceTime: h('input', { type: 'number', id: 'rule-silence', min: 0, max: 604800, value: '86400' }),
    effectiveInterval: h('input', { type: 'text', id: 'rule-interval', value: '00:00-23:59', placeholder: 'HH:MM-HH:MM' }),
    webhook: h('input', { type: 'url', id: 'rule-webhook', required: true, placeholder: 'http://127.0.0.1:9000/alert' }),
    webhookFormat: h('select', { id: 'rule-format' }, options([['form', 'form (the platform\'s)'], ['json', 'JSON']], 'form')),
    enabled: h('input', { type: 'checkbox', id: 'rule-enabled', checked: true }),
  };
  const saveBtn = h('button', { type: 'button', id: 'rule-save', onclick: save }, 'Create rule');
  const cancelBtn = h('button', { type: 'button', class: 'secondary', id: 'rule-cancel', hidden: true, onclick: reset }, 'Cancel');
  const result = h('p', { id: 'rule-result', class: 'muted', 'aria-live': 'polite' });
  const el = h('div', { class: 'form', id: 'rule-form' }, title,
    h('div', { class: 'grid' }, field('Name', c.name), field('Consumer group', c.group), field('Metric', c.metric),
      field('Statistic', c.statistics), field('Comparison', c.comparison), field('Threshold', c.threshold),
      field('Period (s)', c.period, 'the statistic is taken over it'), field('Times', c.times, 'consecutive breaching periods'),
      field('Mute (s)', c.silenceTime, 'after a notification'), field('Active between', c.effectiveInterval, 'local time, may wrap midnight'),
      field('Webhook URL', c.webhook), field('Webhook body', c.webhookFormat)),
    h('label', { class: 'check' }, c.enabled, ' enabled'),
    h('div', { class: 'actions' }, saveBtn, cancelBtn), result);
  const fresh = Object.fromEntries(Object.entries(c).map(([k, e]) => [k, e.type === 'checkbox' ? e.checked : e.value]));
  fresh.group = '*'; // its options come with the first poll
  let editing = '';
  let drawn = '';

  function update(groups) {
    const now = JSON.stringify(groups.map((g) => [g.id, g.name]));
    if (now === drawn) return;
    drawn = now;
    const keep = c.group.value || '*';
    c.group.replaceChildren(...options([['*', 'every group (*)'], ...groups.map((g) => [g.id, g.name === g.id ? g.id : `${g.name} (${g.id})`])], keep));
  }

  function fill(v) {
    for (const [k, e] of Object.entries(c)) {
      if (e.type === 'checkbox') e.checked = Boolean(v[k]);
      else e.value = String(v[k]);
    }
  }

  function edit(r) {
    editing = r.id;
    fill(r);
    title.textContent = `Edit the rule ${r.name}`;
    saveBtn.textContent = 'Save rule';
    cancelBtn.hidden = false;
    result.textContent = '';
    c.name.scrollIntoView({ block: 'center' });
    c.name.focus();
  }

  function reset() {
    editing = '';
    fill(fresh);
    title.textContent = 'New alert rule';
    saveBtn.textContent = 'Create rule';
    cancelBtn.hidden = true;
  }

  async function save() {
    const num = (e) => (e.value.trim() === '' ? undefined : Number(e.value));
    const spec = {
      name: c.name.value.trim(), group: c.group.value, metric: c.metric.value, statistics: c.statistics.value,
      comparison: c.comparison.value, threshold: num(c.threshold), period: num(c.period), times: num(c.times),
      silenceTime: num(c.silenceTime), effectiveInterval: c.effectiveInterval.value.trim(), webhook: c.webhook.value.trim(),
      webhookFormat: c.webhookFormat.value, enabled: c.enabled.checked,
    };
    try {
      const r = editing ? await api('PUT', `/api/v1/alerts/${enc(editing)}`, spec) : await api('POST', '/api/v1/alerts', spec);
      clearError();
      result.textContent = `${editing ? 'Saved' : 'Created'} the rule ${r.name} (${r.id}).`;
      reset();
      await saved();
    } catch (e) { showError(e); }
  }

  return { el, update, edit, reset, editing: () => editing };
}
