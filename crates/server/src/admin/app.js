// The admin page's shell: the sign-in form, the session bar and a router over the URL fragment
// (#/customers, #/customers/{id}). Views render into <main>; after each route change the focus
// moves to the view's heading so keyboard and screen-reader users land on the new content.

import { Api, loadSession, signIn, signOut } from './api.js';
import { h, replace } from './dom.js';
import { renderCustomers } from './customers.js';
import { renderCustomer } from './customer.js';

const main = document.getElementById('main');
const sessionBar = document.getElementById('session');
const sessionInfo = document.getElementById('session-info');
const statusRegion = document.getElementById('status');

let api = null;
let lastListHref = '#/customers';

function status(text) {
  statusRegion.textContent = text;
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function endSession(message) {
  signOut();
  api = null;
  sessionBar.hidden = true;
  showSignIn(message);
}

function startSession(session) {
  api = new Api(session, () => endSession('Your session has ended (the token was refused). Sign in again.'));
  replace(sessionInfo, 'Project ', h('strong', {}, session.project), ' · client ', h('code', {}, session.clientId));
  sessionBar.hidden = false;
}

function showSignIn(message) {
  const field = (id, label, attrs, hint) =>
    h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('input', { id, name: id, ...attrs, 'aria-describedby': hint ? `${id}-hint` : null }),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    );
  const error = h('div', { class: 'error', role: 'alert', id: 'sign-in-error' }, message || '');
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'sign-in', id: 'sign-in' },
    field('client-id', 'Client ID', { required: true, autocomplete: 'username', spellcheck: 'false' }),
    field('client-secret', 'Client secret', { type: 'password', required: true, autocomplete: 'current-password' }),
    field('project-key', 'Project key', { autocomplete: 'off', spellcheck: 'false' },
      'Leave empty to use the project named in the client\'s scope.'),
    field('scope', 'Scope', { autocomplete: 'off', spellcheck: 'false' },
      'Optional: a subset of the client\'s scopes, separated by spaces.'),
    h('div', { class: 'row' }, button),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    button.disabled = true;
    replace(error, 'Signing in…');
    try {
      const session = await signIn({
        clientId: String(values['client-id']).trim(),
        clientSecret: String(values['client-secret']),
        project: String(values['project-key']).trim(),
        scope: String(values.scope).trim(),
      });
      form.reset();
      startSession(session);
      go(location.hash.startsWith('#/customers') ? location.hash : '#/customers');
    } catch (err) {
      replace(error, err.status === 401 || err.code === 'invalid_client'
        ? 'Sign-in failed: unknown client id or wrong secret.'
        : `Sign-in failed: ${err.code}: ${err.message}`);
      button.disabled = false;
    }
  });
  const heading = h('h1', { tabindex: '-1' }, 'Sign in');
  replace(main, heading,
    h('p', {}, 'Sign in with an API client of the project (its id and secret, as ',
      h('code', {}, 'clientele api-client create'), ' prints them). The secret is sent once to ',
      h('code', {}, '/oauth/token'), ' and not kept; the token lives in this tab until it is closed.'),
    form);
  document.title = 'Sign in · Clientele admin';
  form.querySelector('input').focus();
}

async function route() {
  if (!api) {
    const session = loadSession();
    if (!session) {
      showSignIn();
      return;
    }
    startSession(session);
  }
  const hash = location.hash || '#/customers';
  const [path, query = ''] = hash.slice(1).split('?');
  const params = new URLSearchParams(query);
  const detail = /^\/customers\/([^/]+)$/.exec(path);
  // Each render gets its own container: a render overtaken by another one, or by the sign-in
  // form after a refused token, then only fills a detached element.
  const view = h('div', { class: 'view' });
  replace(main, view);
  let heading;
  if (detail) {
    document.title = 'Customer · Clientele admin';
    heading = await renderCustomer(view, api, decodeURIComponent(detail[1]), { status, backHref: lastListHref });
  } else {
    lastListHref = path === '/customers' ? hash : '#/customers';
    document.title = 'Customers · Clientele admin';
    heading = await renderCustomers(view, api, params, { go, status });
  }
  // A later navigation may have replaced the view meanwhile; leave its focus alone.
  if (main.contains(view) && heading) heading.focus();
}

document.getElementById('sign-out').addEventListener('click', () => {
  endSession('Signed out.');
  history.replaceState(null, '', '#/customers');
});
window.addEventListener('hashchange', route);
route();
