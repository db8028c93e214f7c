// Finding customers. A search backend turns the text typed in the search box into one page of
// customers ({limit, offset, count, total, results}). Today the only backend is Query Predicates
// on GET /{p}/customers (exact matches); when Customer Search exists
// (POST /{p}/customers/search), add a backend here and let `chooseBackend` pick it when the
// project has search active: the list view only ever calls `backend.search`.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function capitalized(word) {
  return word ? word[0].toLocaleUpperCase() + word.slice(1) : word;
}

/**
 * The Query Predicate (with input variables, so no quoting of user text) for `text`:
 * an email matches `lowercaseEmail` (any case), an id matches `id`, one word matches a first
 * name, last name, company, key or customer number, several words match "first last" or a
 * company. Names match as typed or with a capital first letter. Empty text: every customer.
 * @returns {{where?: string, vars: Record<string, string>}}
 */
export function predicateFor(text) {
  const q = text.trim();
  if (!q) return { vars: {} };
  if (q.includes('@')) {
    return { where: 'lowercaseEmail = :email', vars: { 'var.email': q.toLocaleLowerCase() } };
  }
  if (UUID.test(q)) return { where: 'id = :id', vars: { 'var.id': q.toLowerCase() } };
  const words = q.split(/\s+/);
  if (words.length === 1) {
    return {
      where:
        'firstName = :w or firstName = :wc or lastName = :w or lastName = :wc ' +
        'or companyName = :w or key = :w or customerNumber = :w',
      vars: { 'var.w': q, 'var.wc': capitalized(q) },
    };
  }
  const first = words[0];
  const last = words.slice(1).join(' ');
  return {
    where:
      '(firstName = :f and lastName = :l) or (firstName = :fc and lastName = :lc) ' +
      'or companyName = :all',
    vars: {
      'var.f': first,
      'var.l': last,
      'var.fc': capitalized(first),
      'var.lc': words.slice(1).map(capitalized).join(' '),
      'var.all': q,
    },
  };
}

/** Searches with Query Predicates on the customer query endpoint. */
export const queryPredicateBackend = {
  label: 'exact match (Query Predicates)',
  hint:
    'Exact match: an email (any case), a first or last name, "First Last", a company, ' +
    'a key, a customer number or an id. Leave empty to list everyone.',
  /**
   * @param {import('./api.js').Api} api
   * @param {string} text
   * @param {{limit: number, offset: number, sort: string}} page
   */
  search(api, text, { limit, offset, sort }) {
    const { where, vars } = predicateFor(text);
    return api.get('/customers', { where, ...vars, limit, offset, sort, withTotal: 'true' });
  },
};

/** The backend to use for this project (Query Predicates until Customer Search exists). */
export function chooseBackend(_api) {
  return queryPredicateBackend;
}
