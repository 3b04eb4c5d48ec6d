import {api, segment} from './api.js';
import {h, field, section} from './dom.js';

/** The clubs, each with its on/off switch; adding a club. */
export function clubsPanel(context) {
  const {client, path} = context;
  const rows = client.clubs.map((club) => {
    const toggle = h('input', {type: 'checkbox', role: 'switch', class: 'switch', checked: club.enabled, id: `club-${club.clubId}`});
    toggle.addEventListener('change', () => context.change(
      () => api('PUT', `${path}/clubs/${segment(club.clubId)}`, {name: club.name, enabled: toggle.checked}),
      `${club.name} is ${toggle.checked ? 'on: it accepts writes again' : 'off: writes to it are refused'}.`));
    return h('tr', {'data-club-id': club.clubId},
      h('td', {'data-label': 'Club ID'}, h('code', {}, club.clubId)),
      h('td', {'data-label': 'Name'}, club.name),
      h('td', {'data-label': 'On'}, h('span', {class: 'check'}, toggle,
        h('label', {for: toggle.id}, club.enabled ? 'On' : 'Off', h('span', {class: 'visually-hidden'}, ` — ${club.name}`)))));
  });
  const clubId = h('input', {name: 'clubId', required: true, autocomplete: 'off', spellcheck: 'false'});
  const name = h('input', {name: 'name', required: true, autocomplete: 'off'});
  const form = h('form', {class: 'inline-fields'}, field('Club ID', clubId), field('Name', name), h('button', {type: 'submit'}, 'Add club'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    context.change(() => api('PUT', `${path}/clubs/${segment(clubId.value.trim())}`, {name: name.value.trim(), enabled: true}), 'Club saved.');
  });
  return section('Clubs',
    h('p', {class: 'hint'}, 'A club switched off accepts no writes (422 on clubId, kept as a sync error) and is left out of lists.'),
    h('table', {class: 'list', id: 'clubs'},
      h('thead', {}, h('tr', {}, ['Club ID', 'Name', 'On'].map((name) => h('th', {scope: 'col'}, name)))),
      h('tbody', {}, rows)),
    h('h3', {}, 'Add a club'), form);
}
