import {api, all, segment} from './api.js';
import {h, confirmingButton, field, replace, section} from './dom.js';
import {dateTime, problemText} from './format.js';
import {oneTimeSecret} from './one-time-secret.js';
import {say} from './status.js';

/** The Connector's credential (rotate) and the club systems' reader credentials. */
export function credentialsPanel(context) {
  const {client, path} = context;
  const username = h('code', {id: 'username'}, client.username || '—');
  const revealed = h('div', {id: 'rotated'});
  const rotate = confirmingButton('Rotate password', 'The current password stops working at once.', 'Rotate now', async () => {
    try {
      const credential = await api('POST', `${path}/credentials`);
      username.textContent = credential.username;
      replace(revealed, h('p', {}, 'New username ', h('code', {}, credential.username), '.'),
        oneTimeSecret('New password', credential.password, 'rotated-password'));
      say('Rotated: give the Connector\'s team the new username and password.');
    } catch (error) {
      say(problemText(error), 'error');
    }
  });

  const readers = h('div', {id: 'readers'}, h('p', {}, 'Loading…'));
  const drawReaders = async () => {
    try {
      const items = await all(`${path}/reader-credentials`);
      if (items.length === 0) return replace(readers, h('p', {class: 'muted'}, 'No reader credentials.'));
      replace(readers, h('table', {class: 'list'},
        h('thead', {}, h('tr', {}, ['Label', 'Username', 'Issued', 'Last used', ''].map((name) => h('th', {scope: 'col'}, name)))),
        h('tbody', {}, items.map((reader) => h('tr', {},
          h('td', {'data-label': 'Label'}, reader.label || ''),
          h('td', {'data-label': 'Username'}, h('code', {}, reader.username)),
          h('td', {'data-label': 'Issued'}, dateTime(reader.createdAt)),
          h('td', {'data-label': 'Last used'}, reader.lastUsedAt ? dateTime(reader.lastUsedAt) : 'never'),
          h('td', {}, confirmingButton('Revoke', `Revoke ${reader.label || reader.username}? Its next call is refused.`, 'Revoke now', async () => {
            try {
              await api('DELETE', `${path}/reader-credentials/${segment(reader.id)}`);
              say('Revoked.');
              await drawReaders();
            } catch (error) {
              say(problemText(error), 'error');
            }
          })))))));
    } catch (error) {
      replace(readers, h('p', {class: 'error'}, problemText(error)));
    }
  };
  drawReaders();

  const label = h('input', {name: 'label', required: true, maxlength: '200', autocomplete: 'off'});
  const issued = h('div', {id: 'reader-issued'});
  const issue = h('form', {class: 'inline-fields'}, field('Label', label, 'Which club system it is for.'), h('button', {type: 'submit'}, 'Issue reader credential'));
  issue.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const reader = await api('POST', `${path}/reader-credentials`, {label: label.value.trim()});
      label.value = '';
      replace(issued, h('p', {}, 'Username ', h('code', {}, reader.username), '.'), oneTimeSecret('Reader password', reader.password, 'reader-password'));
      say('Issued: give the club system its username and password.');
      await drawReaders();
    } catch (error) {
      say(problemText(error), 'error');
    }
  });

  return section('Credentials',
    h('p', {}, 'The Connector signs in as ', username, '.'),
    rotate, revealed,
    h('h3', {}, 'Reader credentials'),
    h('p', {class: 'hint'}, 'Read-only credentials for club systems (GET under /v1, the change feed).'),
    readers, issue, issued);
}
