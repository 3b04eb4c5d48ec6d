// The console's only way to the server: /admin/v1, with the session cookie the
// browser holds (HttpOnly: this script never sees it) and, on every write, the
// session's CSRF token in X-CSRF-Token. The token lives in this module's memory
// only: a reload asks the server for it again (GET /admin/v1/session).

let csrfToken = null;
let sessionEnded = () => {};

/** An answer other than 2xx, with its RFC 9457 problem when there is one. */
export class ProblemError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Called when the server says the session is over (401): the sign-in screen. */
export function onSessionEnded(callback) {
  sessionEnded = callback;
}

export function segment(value) {
  return encodeURIComponent(value);
}

async function send(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(`/admin/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ProblemError(response.status, data);
  return data;
}

/** A call of the admin API; a 401 ends the session in the page too. */
export async function api(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (error) {
    if (error instanceof ProblemError && error.status === 401) {
      csrfToken = null;
      sessionEnded();
    }
    throw error;
  }
}

/** Every item of a list, following nextCursor (at most `pages` pages). */
export async function all(path, pages = 20) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < pages; page += 1) {
    const separator = path.includes('?') ? '&' : '?';
    const answer = await api('GET', `${path}${separator}limit=500${cursor ? `&cursor=${segment(cursor)}` : ''}`);
    items.push(...answer.items);
    cursor = answer.nextCursor;
    if (!cursor) break;
  }
  return items;
}

/** Signs in with the admin token: the server answers with the cookie. */
export async function signIn(token) {
  const session = await send('POST', '/session', {token});
  csrfToken = session.csrfToken;
  return session;
}

/** The current session, or null when signed out. */
export async function currentSession() {
  try {
    const session = await send('GET', '/session');
    csrfToken = session.csrfToken;
    return session;
  } catch (error) {
    if (error instanceof ProblemError && error.status === 401) return null;
    throw error;
  }
}

export async function signOut() {
  try {
    await send('DELETE', '/session');
  } finally {
    csrfToken = null;
  }
}
