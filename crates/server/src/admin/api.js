// Talks to the Clientele API of this origin. Signing in runs the OAuth2 client-credentials flow
// against /oauth/token; only the resulting bearer token (with its project and expiry) is kept,
// in sessionStorage so a reload stays signed in until the tab closes. The client secret is used
// once for the token request and never stored.

const SESSION_KEY = 'clientele-admin-session';

/** An error answer of the API, carrying its commercetools error body. */
export class ApiError extends Error {
  constructor(status, body) {
    const first = body && Array.isArray(body.errors) ? body.errors[0] : undefined;
    super((body && (body.message || body.error_description)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    /** The first error's code (e.g. ConcurrentModification), or the OAuth `error`. */
    this.code = (first && first.code) || (body && body.error) || `HTTP ${status}`;
    this.first = first || {};
  }
}

/** UTF-8 safe base64 for the Basic header. */
function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The project named by the first project-bound scope, e.g. `manage_project:demo` gives demo. */
export function projectFromScope(scope) {
  for (const s of String(scope || '').split(/\s+/)) {
    const parts = s.split(':');
    if (parts.length >= 2 && parts[1]) return parts[1];
  }
  return '';
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/**
 * Exchanges client credentials for a token and returns the session (never containing the
 * secret). `project` may be empty: the client's scope then names it.
 */
export async function signIn({ clientId, clientSecret, project, scope }) {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) form.set('scope', scope);
  const response = await fetch('/oauth/token', {
    method: 'POST',
    headers: {
      Authorization: `Basic ${base64(`${clientId}:${clientSecret}`)}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: form,
    credentials: 'omit',
    cache: 'no-store',
  });
  const body = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, body);
  const projectKey = project || projectFromScope(body.scope);
  if (!projectKey) {
    throw new ApiError(400, {
      message: 'The client\'s scope names no project: enter the project key.',
    });
  }
  const session = {
    token: body.access_token,
    scope: body.scope || '',
    project: projectKey,
    clientId,
    expiresAt: Date.now() + Number(body.expires_in || 0) * 1000,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** The stored session if its token has not expired. */
export function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (session && session.token && session.expiresAt > Date.now()) return session;
  } catch {
    // A damaged entry is the same as none.
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

/** Forgets the token. */
export function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** The API of one project under one token. */
export class Api {
  /**
   * @param {{token: string, project: string}} session
   * @param {() => void} onUnauthorized called when the token is refused (expired or revoked)
   */
  constructor(session, onUnauthorized) {
    this.session = session;
    this.onUnauthorized = onUnauthorized;
  }

  /**
   * A request below /{project}. `params` become the query string (arrays repeat the name).
   * Resolves to the parsed body; rejects with ApiError.
   */
  async request(method, path, { params, body } = {}) {
    const url = new URL(`/${encodeURIComponent(this.session.project)}${path}`, location.origin);
    for (const [name, value] of Object.entries(params || {})) {
      for (const v of [].concat(value)) {
        if (v !== undefined && v !== null && v !== '') url.searchParams.append(name, String(v));
      }
    }
    const headers = { Authorization: `Bearer ${this.session.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const parsed = await readBody(response);
    if (response.status === 401) this.onUnauthorized();
    if (!response.ok) throw new ApiError(response.status, parsed);
    return parsed;
  }

  get(path, params) {
    return this.request('GET', path, { params });
  }

  post(path, body, params) {
    return this.request('POST', path, { body, params });
  }
}
