// The customer list: search box, sort and page size, a table of one page, and paging. All its
// state lives in the URL fragment (#/customers?q=…&sort=…&limit=…&offset=…), so Back, reload and
// links work and the view is a plain function of the fragment.

import { h, replace, time } from './dom.js';
import { chooseBackend } from './search.js';

const SORTS = [
  ['createdAt desc', 'Newest first'],
  ['createdAt asc', 'Oldest first'],
  ['email asc', 'Email A–Z'],
  ['lastName asc', 'Last name A–Z'],
  ['lastModifiedAt desc', 'Recently changed'],
];
const LIMITS = [10, 20, 50, 100];

/** The list state from the fragment's query, with defaults for anything missing or invalid. */
export function listState(params) {
  const limit = Number(params.get('limit'));
  const offset = Number(params.get('offset'));
  const sort = params.get('sort');
  return {
    q: params.get('q') || '',
    sort: SORTS.some(([v]) => v === sort) ? sort : SORTS[0][0],
    limit: LIMITS.includes(limit) ? limit : 20,
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
}

/** The fragment for a list state. */
export function listHref(state) {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  p.set('sort', state.sort);
  p.set('limit', String(state.limit));
  if (state.offset) p.set('offset', String(state.offset));
  return `#/customers?${p}`;
}

function fullName(c) {
  return [c.title, c.firstName, c.middleName, c.lastName].filter(Boolean).join(' ');
}

/**
 * Renders the list into `root`.
 * @param {HTMLElement} root
 * @param {import('./api.js').Api} api
 * @param {URLSearchParams} params the fragment's query
 * @param {{go: (hash: string) => void, status: (text: string) => void}} app
 */
export async function renderCustomers(root, api, params, app) {
  const state = listState(params);
  const backend = chooseBackend(api);
  const go = (changes) => app.go(listHref({ ...state, ...changes }));

  const search = h('input', {
    id: 'search',
    type: 'search',
    name: 'q',
    value: state.q,
    autocomplete: 'off',
    'aria-describedby': 'search-hint',
  });
  const sort = h(
    'select',
    { id: 'sort', onchange: () => go({ sort: sort.value, offset: 0 }) },
    SORTS.map(([value, label]) => h('option', { value, selected: value === state.sort }, label)),
  );
  const limit = h(
    'select',
    { id: 'limit', onchange: () => go({ limit: Number(limit.value), offset: 0 }) },
    LIMITS.map((n) => h('option', { value: n, selected: n === state.limit }, String(n))),
  );
  const heading = h('h1', { tabindex: '-1' }, 'Customers');
  const results = h('div', { class: 'results', 'aria-busy': 'true' }, h('p', {}, 'Loading…'));

  replace(
    root,
    heading,
    h(
      'form',
      {
        role: 'search',
        class: 'search',
        onsubmit: (e) => {
          e.preventDefault();
          go({ q: search.value.trim(), offset: 0 });
        },
      },
      h('label', { for: 'search' }, 'Find customers'),
      h('div', { class: 'row' },
        search,
        h('button', { type: 'submit' }, 'Search'),
        h('button', { type: 'button', class: 'secondary', onclick: () => go({ q: '', offset: 0 }) }, 'Clear'),
      ),
      h('p', { id: 'search-hint', class: 'hint' }, backend.hint),
    ),
    h('div', { class: 'toolbar' },
      h('label', { for: 'sort' }, 'Sort'), sort,
      h('label', { for: 'limit' }, 'Per page'), limit,
    ),
    results,
  );

  let page;
  try {
    page = await backend.search(api, state.q, state);
  } catch (error) {
    replace(results, h('p', { class: 'error', role: 'alert' }, `${error.code}: ${error.message}`));
    results.removeAttribute('aria-busy');
    return heading;
  }
  results.removeAttribute('aria-busy');
  const total = page.total ?? page.count;
  const from = page.count ? page.offset + 1 : 0;
  const to = page.offset + page.count;
  const summary = state.q
    ? `${total} customer${total === 1 ? '' : 's'} matching “${state.q}”`
    : `${total} customer${total === 1 ? '' : 's'}`;

  const rows = page.results.map((c) =>
    h('tr', {},
      h('td', {}, h('a', { href: `#/customers/${encodeURIComponent(c.id)}` }, c.email || c.id)),
      h('td', {}, fullName(c) || '—'),
      h('td', {}, c.companyName || '—'),
      h('td', {}, c.key || '—'),
      h('td', {}, time(c.createdAt)),
      h('td', { class: 'num' }, String(c.version)),
    ),
  );
  replace(
    results,
    h('p', { class: 'summary', id: 'list-summary' }, summary),
    page.count === 0
      ? h('p', { class: 'empty' }, 'No customer found.')
      : h('table', { 'aria-describedby': 'list-summary' },
          h('thead', {}, h('tr', {},
            ['Email', 'Name', 'Company', 'Key', 'Created', 'Version'].map((t) => h('th', { scope: 'col' }, t)),
          )),
          h('tbody', {}, rows),
        ),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      h('button', {
        type: 'button',
        class: 'secondary',
        disabled: state.offset === 0,
        onclick: () => go({ offset: Math.max(0, state.offset - state.limit) }),
      }, '← Previous'),
      h('span', { class: 'range' }, page.count ? `${from}–${to} of ${total}` : `none of ${total} here`),
      h('button', {
        type: 'button',
        class: 'secondary',
        disabled: to >= total,
        onclick: () => go({ offset: state.offset + state.limit }),
      }, 'Next →'),
    ),
  );
  app.status(summary);
  return heading;
}
