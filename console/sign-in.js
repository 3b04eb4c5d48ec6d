import {signIn, ProblemError} from './api.js';
import {h, field, replace} from './dom.js';

/** The sign-in screen: the admin token, typed or pasted once, sent in a POST body. */
export function renderSignIn(main, {onSignedIn, message}) {
  const token = h('input', {type: 'password', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false'});
  const error = h('p', {class: 'error', role: 'alert', hidden: !message}, message || '');
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Sign in');
  const form = h('form', {class: 'sign-in', id: 'sign-in-form'},
    field('Admin token', token, 'The server\'s RECEIVER_ADMIN_TOKEN. It is sent once, to start an 8-hour session, and kept nowhere in this browser.'),
    error,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    const value = token.value;
    token.value = '';
    try {
      await signIn(value);
      onSignedIn();
    } catch (failure) {
      error.hidden = false;
      error.textContent = failure instanceof ProblemError && failure.status === 401
        ? 'That is not the admin token.'
        : (failure.message || 'Could not sign in.');
      submit.disabled = false;
      token.focus();
    }
  });
  replace(main, h('h1', {tabindex: '-1'}, 'Sign in'), form);
  token.focus();
}
