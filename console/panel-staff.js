import {api, all, segment} from './api.js';
import {h, field, replace, section} from './dom.js';
import {problemText} from './format.js';
import {say} from './status.js';

/** The client's staff (the Connector reads them; admins keep them). */
export function staffPanel(context) {
  const {path} = context;
  const list = h('div', {id: 'staff'}, h('p', {}, 'Loading…'));
  const draw = async () => {
    try {
      const staff = await all(`${path}/staff`);
      if (staff.length === 0) return replace(list, h('p', {class: 'muted'}, 'No staff yet.'));
      replace(list, h('table', {class: 'list'},
        h('thead', {}, h('tr', {}, ['Email', 'Name', 'Role', 'Clubs', 'Active', ''].map((name) => h('th', {scope: 'col'}, name)))),
        h('tbody', {}, staff.map((member) => h('tr', {},
          h('td', {'data-label': 'Email'}, member.email),
          h('td', {'data-label': 'Name'}, [member.firstName, member.lastName].filter(Boolean).join(' ')),
          h('td', {'data-label': 'Role'}, member.role || ''),
          h('td', {'data-label': 'Clubs'}, member.clubIds.join(', ')),
          h('td', {'data-label': 'Active'}, member.active ? 'yes' : 'no'),
          h('td', {}, member.active ? h('button', {type: 'button', onclick: async () => {
            try {
              await api('DELETE', `${path}/staff/${segment(member.email)}`);
              say(`${member.email} deactivated.`);
              await draw();
            } catch (error) {
              say(problemText(error), 'error');
            }
          }}, 'Deactivate', h('span', {class: 'visually-hidden'}, ` ${member.email}`)) : null))))));
    } catch (error) {
      replace(list, h('p', {class: 'error'}, problemText(error)));
    }
  };
  draw();

  const email = h('input', {type: 'email', name: 'email', required: true, autocomplete: 'off'});
  const firstName = h('input', {name: 'firstName', autocomplete: 'off'});
  const lastName = h('input', {name: 'lastName', autocomplete: 'off'});
  const role = h('input', {name: 'role', autocomplete: 'off'});
  const clubIds = h('input', {name: 'clubIds', autocomplete: 'off', spellcheck: 'false'});
  const form = h('form', {class: 'inline-fields'},
    field('Email', email), field('First name', firstName), field('Last name', lastName), field('Role', role),
    field('Club IDs', clubIds, 'Comma-separated.'), h('button', {type: 'submit'}, 'Save staff member'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      firstName: firstName.value.trim() || null,
      lastName: lastName.value.trim() || null,
      role: role.value.trim() || null,
      clubIds: clubIds.value.split(',').map((id) => id.trim()).filter(Boolean),
      active: true,
    };
    try {
      await api('PUT', `${path}/staff/${segment(email.value.trim())}`, body);
      say('Staff member saved.');
      form.reset();
      await draw();
    } catch (error) {
      say(problemText(error), 'error');
    }
  });
  return section('Staff', list, h('h3', {}, 'Add or update a staff member'), form);
}
