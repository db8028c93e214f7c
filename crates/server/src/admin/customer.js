// One customer: its facts, an edit form for the basic fields (sent as update actions with the
// version the form was loaded at), addresses, stores, group, custom fields and the Messages of
// the customer as a timeline. A 409 ConcurrentModification keeps the person's edits in the form
// and says what changed meanwhile and at which version the customer now is.

import { h, replace, time, facts, json } from './dom.js';

/** The editable fields and the update action that sets each one. */
const EDITABLE = [
  { field: 'firstName', label: 'First name', action: 'setFirstName', autocomplete: 'off' },
  { field: 'lastName', label: 'Last name', action: 'setLastName', autocomplete: 'off' },
  // Not type=email: the browser's own check would refuse addresses the API accepts (and block
  // saving the other fields); the API validates and its error is shown.
  { field: 'email', label: 'Email', action: 'changeEmail', inputmode: 'email', required: true },
  { field: 'companyName', label: 'Company', action: 'setCompanyName' },
];

/** Fields every message has; the rest of a message is its payload. */
const MESSAGE_ENVELOPE = new Set([
  'id', 'version', 'versionModifiedAt', 'sequenceNumber', 'resource', 'resourceVersion',
  'resourceUserProvidedIdentifiers', 'type', 'createdAt', 'lastModifiedAt', 'createdBy',
  'lastModifiedBy',
]);

/** The update actions turning `original` into the form `values` (unchanged fields send none). */
export function actionsFor(original, values) {
  const actions = [];
  for (const { field, action } of EDITABLE) {
    const before = original[field] ?? '';
    const after = values[field] ?? '';
    if (before === after) continue;
    if (action === 'changeEmail') actions.push({ action, email: after });
    else actions.push(after === '' ? { action } : { action, [field]: after });
  }
  return actions;
}

function fullName(c) {
  return [c.title, c.firstName, c.middleName, c.lastName].filter(Boolean).join(' ');
}

async function loadCustomer(api, id) {
  // Expanding needs the group and type scopes; without them show the bare references.
  try {
    return await api.get(`/customers/${encodeURIComponent(id)}`, {
      expand: ['customerGroup', 'custom.type'],
    });
  } catch (error) {
    if (error.status === 403) return api.get(`/customers/${encodeURIComponent(id)}`);
    throw error;
  }
}

function addressView(a, c) {
  const badges = [];
  if (a.id && a.id === c.defaultShippingAddressId) badges.push('default shipping');
  if (a.id && a.id === c.defaultBillingAddressId) badges.push('default billing');
  if (a.id && (c.shippingAddressIds || []).includes(a.id) && a.id !== c.defaultShippingAddressId) badges.push('shipping');
  if (a.id && (c.billingAddressIds || []).includes(a.id) && a.id !== c.defaultBillingAddressId) badges.push('billing');
  const lines = [
    [a.salutation, a.title, a.firstName, a.lastName].filter(Boolean).join(' '),
    a.company,
    [a.streetName, a.streetNumber].filter(Boolean).join(' '),
    a.additionalStreetInfo,
    [a.postalCode, a.city].filter(Boolean).join(' '),
    [a.region, a.state, a.country].filter(Boolean).join(', '),
    a.email,
    a.phone || a.mobile,
  ].filter(Boolean);
  return h('li', { class: 'card' },
    h('p', { class: 'badges' },
      a.key ? h('span', { class: 'key' }, a.key) : null,
      badges.map((b) => h('span', { class: 'badge' }, b)),
    ),
    h('address', {}, lines.map((l, i) => [i ? h('br') : null, l])),
  );
}

function groupView(c) {
  const g = c.customerGroup;
  if (!g) return 'None';
  const obj = g.obj;
  if (obj) {
    const name = obj.name && typeof obj.name === 'object' ? Object.values(obj.name)[0] : obj.name;
    return [name || obj.key || obj.id, obj.key ? ` (key ${obj.key})` : ''];
  }
  return `id ${g.id}`;
}

function customView(c) {
  if (!c.custom) return h('p', {}, 'None');
  const type = c.custom.type || {};
  const typeName = type.obj ? type.obj.key || type.obj.id : type.key || type.id;
  const fields = Object.entries(c.custom.fields || {});
  return [
    h('p', {}, 'Type: ', h('code', {}, typeName || '—')),
    fields.length === 0
      ? h('p', {}, 'No fields set.')
      : facts(
          fields.map(([name, value]) => [
            name,
            typeof value === 'object' && value !== null ? json(value) : String(value),
          ]),
        ),
  ];
}

function payloadView(m) {
  const entries = Object.entries(m).filter(([k]) => !MESSAGE_ENVELOPE.has(k));
  if (entries.length === 0) return null;
  const simple = entries.filter(([, v]) => v === null || typeof v !== 'object');
  const complex = entries.filter(([, v]) => v !== null && typeof v === 'object');
  return [
    simple.length
      ? h('ul', { class: 'payload' }, simple.map(([k, v]) => h('li', {}, h('span', { class: 'field' }, k), ': ', v === null ? 'null' : String(v))))
      : null,
    complex.map(([k, v]) =>
      h('details', {}, h('summary', {}, k), json(v)),
    ),
  ];
}

function messageView(m) {
  const by = m.createdBy && (m.createdBy.clientId || (m.createdBy.customer && 'the customer'));
  return h('li', { class: 'message', 'data-type': m.type },
    h('p', { class: 'message-head' },
      h('span', { class: 'seq' }, `#${m.sequenceNumber}`),
      h('strong', { class: 'type' }, m.type),
      h('span', { class: 'meta' }, 'version ', String(m.resourceVersion), ' · ', time(m.createdAt), by ? [' · by ', by] : null),
    ),
    payloadView(m),
  );
}

async function renderTimeline(list, summary, api, id) {
  list.setAttribute('aria-busy', 'true');
  try {
    const page = await api.get('/messages', {
      where: 'resource(id = :rid)',
      'var.rid': id,
      sort: 'sequenceNumber asc',
      limit: 500,
      withTotal: 'true',
    });
    replace(list, page.results.map(messageView));
    replace(summary, page.total > page.count
      ? `The first ${page.count} of ${page.total} messages, oldest first.`
      : `${page.count} message${page.count === 1 ? '' : 's'}, oldest first.`);
  } catch (error) {
    replace(list);
    replace(summary, h('span', { class: 'error' },
      error.status === 403
        ? 'The signed-in client may not read Messages (it needs view_messages).'
        : `${error.code}: ${error.message}`));
  }
  list.removeAttribute('aria-busy');
}

/**
 * Renders customer `id` into `root`.
 * @param {HTMLElement} root
 * @param {import('./api.js').Api} api
 * @param {string} id
 * @param {{status: (text: string) => void, backHref: string}} app
 */
export async function renderCustomer(root, api, id, app) {
  const heading = h('h1', { tabindex: '-1' }, 'Customer');
  const back = h('p', { class: 'back' }, h('a', { href: app.backHref }, '← Customers'));
  replace(root, back, heading, h('p', { 'aria-busy': 'true' }, 'Loading…'));

  let customer;
  try {
    customer = await loadCustomer(api, id);
  } catch (error) {
    replace(root, back, heading, h('p', { class: 'error', role: 'alert' },
      error.status === 404 ? 'No customer with this id.' : `${error.code}: ${error.message}`));
    return heading;
  }

  const factsBox = h('div');
  const inputs = {};
  const notice = h('div', { class: 'notice', id: 'save-result', tabindex: '-1' });
  const saveButton = h('button', { type: 'submit' }, 'Save changes');
  const timeline = h('ol', { class: 'timeline', id: 'timeline' });
  const timelineSummary = h('p', { class: 'summary', id: 'timeline-summary' });
  const addresses = h('div');
  const extras = h('div');

  const showFacts = () => {
    replace(heading, fullName(customer) || customer.email);
    replace(factsBox, facts([
      ['Email', customer.email],
      ['ID', h('code', {}, customer.id)],
      ['Key', customer.key],
      ['Customer number', customer.customerNumber],
      ['Version', h('span', { id: 'customer-version' }, String(customer.version))],
      ['Created', time(customer.createdAt)],
      ['Last modified', time(customer.lastModifiedAt)],
      ['Authentication', customer.authenticationMode || 'Password'],
      ['Email verified', customer.isEmailVerified ? 'yes' : 'no'],
    ]));
  };
  const fillForm = () => {
    for (const { field } of EDITABLE) inputs[field].value = customer[field] ?? '';
  };
  const formValues = () =>
    // Sent as typed: trimming here would turn an untouched value with spaces into a change.
    Object.fromEntries(EDITABLE.map(({ field }) => [field, inputs[field].value]));

  const showExtras = () => {
    const addressList = customer.addresses || [];
    replace(addresses,
      addressList.length === 0
        ? h('p', {}, 'No addresses.')
        : h('ul', { class: 'cards' }, addressList.map((a) => addressView(a, customer))));
    replace(extras,
      h('section', { 'aria-labelledby': 'stores-h' },
        h('h2', { id: 'stores-h' }, 'Stores'),
        (customer.stores || []).length === 0
          ? h('p', {}, 'None: a global customer.')
          : h('ul', { class: 'inline' }, customer.stores.map((s) => h('li', {}, h('code', {}, s.key || s.id))))),
      h('section', { 'aria-labelledby': 'group-h' },
        h('h2', { id: 'group-h' }, 'Customer group'),
        h('p', {}, groupView(customer))),
      h('section', { 'aria-labelledby': 'custom-h' },
        h('h2', { id: 'custom-h' }, 'Custom fields'),
        customView(customer)),
    );
  };

  /** Sends the form's changes at `version`; on a conflict keeps the edits and explains. */
  const save = async (version) => {
    const actions = actionsFor(customer, formValues());
    if (actions.length === 0) {
      replace(notice, h('p', { role: 'status' }, 'Nothing to save: no field changed.'));
      return;
    }
    saveButton.disabled = true;
    try {
      const updated = await api.post(`/customers/${encodeURIComponent(customer.id)}`, { version, actions });
      // Reloaded for the expanded group and type; the answer itself will do if that fails.
      customer = await loadCustomer(api, customer.id).catch(() => updated);
      showFacts();
      fillForm();
      showExtras();
      replace(notice, h('p', { class: 'ok', role: 'status' }, `Saved. The customer is now at version ${updated.version}.`));
      app.status(`Saved at version ${updated.version}`);
      await renderTimeline(timeline, timelineSummary, api, customer.id);
    } catch (error) {
      if (error.code === 'ConcurrentModification') {
        await showConflict(version, error.first.currentVersion);
      } else {
        replace(notice, h('p', { class: 'error', role: 'alert' }, `Not saved: ${error.code}: ${error.message}`));
      }
      notice.focus();
    } finally {
      saveButton.disabled = false;
    }
  };

  const showConflict = async (sentVersion, currentVersion) => {
    let latest = null;
    try {
      latest = await api.get(`/customers/${encodeURIComponent(customer.id)}`);
    } catch {
      // The explanation below still holds without the list of changed fields.
    }
    const now = latest ? latest.version : currentVersion;
    const changed = latest
      ? EDITABLE.filter(({ field }) => (latest[field] ?? '') !== (customer[field] ?? ''))
      : [];
    replace(notice, h('div', { class: 'conflict', role: 'alert' },
      h('p', {}, h('strong', {}, 'Not saved: this customer was changed meanwhile (409 ConcurrentModification).')),
      h('p', {}, `Your edits were made on version ${sentVersion}; the customer is now at version `,
        h('span', { class: 'current-version' }, String(now)), '. Your edits are still in the form.'),
      changed.length
        ? h('ul', {}, changed.map(({ field, label }) =>
            h('li', {}, `${label} is now “${latest[field] ?? ''}” (was “${customer[field] ?? ''}”)`)))
        : null,
      h('div', { class: 'row' },
        h('button', { type: 'button', onclick: () => save(now) }, `Save my edits on version ${now}`),
        h('button', {
          type: 'button',
          class: 'secondary',
          onclick: async () => {
            try {
              customer = await loadCustomer(api, customer.id);
            } catch (error) {
              replace(notice, h('p', { class: 'error', role: 'alert' }, `${error.code}: ${error.message}`));
              return;
            }
            showFacts();
            fillForm();
            showExtras();
            replace(notice, h('p', { role: 'status' }, `Showing version ${customer.version}; your edits were discarded.`));
            inputs[EDITABLE[0].field].focus();
          },
        }, 'Discard my edits and show the current version'),
      ),
    ));
    // The messages show what the other change was.
    await renderTimeline(timeline, timelineSummary, api, customer.id);
  };

  const form = h('form', {
    class: 'edit',
    onsubmit: (e) => {
      e.preventDefault();
      save(customer.version);
    },
  },
  EDITABLE.map(({ field, label, inputmode, required, autocomplete }) => {
    inputs[field] = h('input', {
      id: `edit-${field}`,
      name: field,
      type: 'text',
      inputmode,
      required: !!required,
      autocomplete: autocomplete || 'off',
    });
    return h('div', { class: 'field' }, h('label', { for: `edit-${field}` }, label), inputs[field]);
  }),
  h('div', { class: 'row' }, saveButton),
  notice,
  );

  showFacts();
  fillForm();
  showExtras();
  replace(root,
    back,
    heading,
    h('div', { class: 'columns' },
      h('div', { class: 'main-col' },
        factsBox,
        h('section', { 'aria-labelledby': 'edit-h' }, h('h2', { id: 'edit-h' }, 'Edit'), form),
        h('section', { 'aria-labelledby': 'addresses-h' }, h('h2', { id: 'addresses-h' }, 'Addresses'), addresses),
        extras,
      ),
      h('section', { class: 'side-col', 'aria-labelledby': 'messages-h' },
        h('h2', { id: 'messages-h' }, 'Messages'),
        timelineSummary,
        timeline,
      ),
    ),
  );
  app.status(`Customer ${customer.email}, version ${customer.version}`);
  renderTimeline(timeline, timelineSummary, api, customer.id);
  return heading;
}

