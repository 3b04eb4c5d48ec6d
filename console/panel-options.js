import {api} from './api.js';
import {h, check, section} from './dom.js';

/** The client's options (the set the server knows). */
export function optionsPanel(context) {
  const {client, path} = context;
  const smartMatch = h('input', {type: 'checkbox', name: 'smartMatch', checked: client.options.smartMatch !== false});
  const form = h('form', {}, check('Smart match: a save by external ID adopts the one matching record without one', smartMatch),
    h('button', {type: 'submit'}, 'Save options'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    context.change(() => api('PATCH', path, {options: {smartMatch: smartMatch.checked}}), 'Options saved.');
  });
  return section('Options', form);
}
