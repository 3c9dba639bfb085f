// Subscriptions (#/subscriptions): per product, which consumer groups get
// which message kinds; add, edit and delete them.
import { h, api, enc, table, field, showError, clearError } from './lib.js';

export function subscriptionsPage() {
  const listBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const form = subscriptionForm(() => refresh());
  const el = h('section', {},
    h('h1', {}, 'Subscriptions'),
    h('p', { class: 'muted' }, 'A product without a subscription sends its device data to DEFAULT_GROUP, as the platform does out of the box. Once a product has one, only the groups and kinds it names get its messages.'),
    listBox, form.el);

  let groups = [];
  async function refresh() {
    const [subs, list] = await Promise.all([api('GET', '/api/v1/subscriptions'), api('GET', '/api/v1/groups?pageSize=1000')]);
    groups = list.groups || [];
    const byID = new Map(groups.map((g) => [g.id, g]));
    const entries = Object.entries(subs.subscriptions || {}).sort(([a], [b]) => a.localeCompare(b));
    listBox.replaceChildren(entries.length === 0 ? h('p', { id: 'no-subscriptions' }, 'No product has a subscription yet.') :
      table([['Product key'], ['Consumer groups'], ['Message kinds'], ['Flags'], ['']], entries.map(([pk, s]) => h('tr', { 'data-product': pk },
        h('td', { class: 'mono' }, pk),
        h('td', {}, s.groups.map((id, i) => [i ? ', ' : '', h('a', { href: `#/groups/${enc(id)}` }, (byID.get(id) || { name: id }).name)])),
        h('td', {}, s.kinds.join(', ')),
        h('td', {}, Object.entries(s.subscribeFlags || {}).filter(([, on]) => on).map(([f]) => f).join(', ') || '—'),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'secondary', 'data-edit': pk, onclick: () => form.edit(pk, s) }, 'Edit'),
          h('button', { type: 'button', class: 'secondary', 'data-delete': pk, onclick: () => remove(pk) }, 'Delete')))), null, { stacked: true }));
    form.update(groups, subs.knownKinds || ['data']);
  }

  async function remove(pk) {
    if (!window.confirm(`Delete the subscription of product ${pk}? Its device data goes to DEFAULT_GROUP again.`)) return;
    try {
      await api('DELETE', `/api/v1/products/${enc(pk)}/subscription`);
      clearError();
      if (form.editing() === pk) form.reset();
      await refresh();
    } catch (e) { showError(e); }
  }

  return { el, refresh, dispose() {} };
}

// subscriptionForm adds a product's subscription or edits one: a product
// key, a checkbox per group and per kind. Polls redraw the checkboxes but
// keep what the user ticked.
function subscriptionForm(saved) {
  const title = h('h2', {}, 'Subscribe a product');
  const pkIn = h('input', { type: 'text', id: 'sub-product', required: true, placeholder: 'product key', autocomplete: 'off' });
  const groupsBox = h('fieldset', { id: 'sub-groups', class: 'checks' }, h('legend', {}, 'Consumer groups'));
  const kindsBox = h('fieldset', { id: 'sub-kinds', class: 'checks' }, h('legend', {}, 'Message kinds'));
  const saveBtn = h('button', { type: 'button', id: 'sub-save', onclick: save }, 'Save subscription');
  const cancelBtn = h('button', { type: 'button', class: 'secondary', id: 'sub-cancel', hidden: true, onclick: reset }, 'Cancel');
  const result = h('p', { id: 'sub-result', class: 'muted', 'aria-live': 'polite' });
  const el = h('div', { class: 'form', id: 'sub-form' }, title, field('Product key', pkIn), groupsBox, kindsBox,
    h('div', { class: 'actions' }, saveBtn, cancelBtn), result);
  let chosen = { groups: new Set(), kinds: new Set(['data']) };
  let flags; // kept from the edited subscription: the OpenAPI sets them
  let editing = '';

  // checks draws a checkbox per item; key names the set of chosen it
  // edits (looked up on each change: edit and reset replace the sets).
  function checks(box, name, items, key) {
    box.replaceChildren(box.firstChild, ...items.map(([value, label]) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name, value, checked: chosen[key].has(value), onchange: (e) => (e.target.checked ? chosen[key].add(value) : chosen[key].delete(value)) }),
      ' ', label)));
  }

  let drawn = ''; // the lists drawn: redrawn only when they change, so focus stays
  function update(groups, kinds) {
    const now = JSON.stringify([groups.map((g) => [g.id, g.name]), kinds]);
    if (now === drawn) return;
    drawn = now;
    checks(groupsBox, 'sub-group', groups.map((g) => [g.id, g.name === g.id ? g.id : `${g.name} (${g.id})`]), 'groups');
    checks(kindsBox, 'sub-kind', kinds.map((k) => [k, k]), 'kinds');
  }

  function edit(pk, s) {
    editing = pk;
    chosen.groups = new Set(s.groups);
    chosen.kinds = new Set(s.kinds);
    flags = s.subscribeFlags;
    pkIn.value = pk;
    pkIn.readOnly = true;
    title.textContent = `Edit the subscription of ${pk}`;
    cancelBtn.hidden = false;
    result.textContent = '';
    for (const box of [groupsBox, kindsBox]) {
      for (const c of box.querySelectorAll('input')) c.checked = (box === groupsBox ? chosen.groups : chosen.kinds).has(c.value);
    }
    pkIn.scrollIntoView({ block: 'center' });
    groupsBox.querySelector('input')?.focus();
  }

  function reset() {
    editing = '';
    flags = undefined;
    chosen = { groups: new Set(), kinds: new Set(['data']) };
    pkIn.value = '';
    pkIn.readOnly = false;
    title.textContent = 'Subscribe a product';
    cancelBtn.hidden = true;
    for (const c of el.querySelectorAll('fieldset input')) c.checked = c.name === 'sub-kind' && c.value === 'data';
  }

  async function save() {
    const pk = pkIn.value.trim();
    if (!pk) { showError(new Error('type the product key first')); return; }
    if (chosen.groups.size === 0) { showError(new Error('tick at least one consumer group (or delete the subscription)')); return; }
    if (chosen.kinds.size === 0) { showError(new Error('tick at least one message kind')); return; }
    const body = { groups: [...chosen.groups], kinds: [...chosen.kinds] };
    if (flags) body.subscribeFlags = flags;
    try {
      const s = await api('PUT', `/api/v1/products/${enc(pk)}/subscription`, body);
      clearError();
      reset();
      result.textContent = `Saved: ${pk} sends ${s.kinds.join(', ')} to ${s.groups.length} group(s).`;
      await saved();
    } catch (e) { showError(e); }
  }

  return { el, update, edit, reset, editing: () => editing };
}
