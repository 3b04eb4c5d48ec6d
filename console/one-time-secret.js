import {h, uid} from './dom.js';
import {say} from './status.js';

const passwordWarning = 'Shown this once: the receiver keeps only a hash. Copy it now or print this page; to get another, rotate.';

/**
 * A password (or signing secret) shown this once: in a read-only field
 * (selectable, copyable), with a Copy button. It lives only in this element:
 * leaving the screen drops it.
 */
export function oneTimeSecret(label, secret, id = 'one-time-password', warningText = passwordWarning) {
  const input = h('input', {type: 'text', id, readonly: true, value: secret, class: 'secret', spellcheck: 'false', autocomplete: 'off'});
  const copy = h('button', {type: 'button', class: 'copy', onclick: async () => {
    try {
      await navigator.clipboard.writeText(secret);
      say('Copied to the clipboard.');
    } catch {
      input.select();
      say('Selected: press Ctrl+C (⌘C) to copy.');
    }
  }}, 'Copy');
  const warning = uid('warning');
  input.setAttribute('aria-describedby', warning);
  return h('div', {class: 'one-time'},
    h('label', {for: id}, label),
    h('div', {class: 'secret-row'}, input, copy),
    h('p', {class: 'warning', id: warning}, warningText));
}
