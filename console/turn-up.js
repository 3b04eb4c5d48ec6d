import {api} from './api.js';
import {h, check, field, replace, section} from './dom.js';
import {problemText} from './format.js';
import {oneTimeSecret} from './one-time-secret.js';
import {say} from './status.js';

/** The turn-up form: client ID, name, clubs, connection, options. */
export async function renderTurnUp(main) {
  const clientId = h('input', {name: 'clientId', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}', autocomplete: 'off', spellcheck: 'false'});
  const name = h('input', {name: 'name', required: true, maxlength: '200', autocomplete: 'off'});
  const clubs = h('div', {class: 'club-rows'});
  const addClub = () => clubs.append(clubRow(clubs));
  addClub();
  const scheme = h('select', {name: 'scheme'}, h('option', {value: 'https'}, 'https'), h('option', {value: 'http'}, 'http'));
  const host = h('input', {name: 'host', autocomplete: 'off', spellcheck: 'false', placeholder: 'receiver.example.com'});
  const port = h('input', {name: 'port', type: 'number', min: '1', max: '65535', inputmode: 'numeric', placeholder: '443'});
  const smartMatch = h('input', {type: 'checkbox', name: 'smartMatch', checked: true});
  const errors = h('div', {class: 'error', role: 'alert', hidden: true});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Turn up');

  const form = h('form', {id: 'turn-up-form'},
    h('fieldset', {}, h('legend', {}, 'Client'),
      field('Client ID', clientId, 'Letters, digits, ".", "_" and "-"; it starts the Connector\'s username. It cannot change later.'),
      field('Name', name)),
    h('fieldset', {}, h('legend', {}, 'Clubs'), clubs,
      h('button', {type: 'button', onclick: addClub}, 'Add a club')),
    h('fieldset', {}, h('legend', {}, 'Connection'),
      h('p', {class: 'hint'}, 'The address at which the Connector reaches this receiver for this client. Leave the host empty to use the server\'s public URL.'),
      h('div', {class: 'inline-fields'}, field('Scheme', scheme), field('Host', host), field('Port', port))),
    h('fieldset', {}, h('legend', {}, 'Options'),
      check('Smart match: a save by external ID adopts the one matching record without one, instead of creating a duplicate', smartMatch)),
    errors,
    submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.hidden = true;
    const body = {
      clientId: clientId.value.trim(),
      name: name.value.trim(),
      clubs: [...clubs.querySelectorAll('.club-row')].map((row) => ({
        clubId: row.querySelector('[name=clubId]').value.trim(),
        name: row.querySelector('[name=clubName]').value.trim(),
        enabled: true,
      })).filter((club) => club.clubId || club.name),
      options: {smartMatch: smartMatch.checked},
    };
    if (host.value.trim()) {
      body.connection = {scheme: scheme.value, host: host.value.trim(), port: Number(port.value || (scheme.value === 'https' ? 443 : 80))};
    }
    submit.disabled = true;
    try {
      const turnedUp = await api('POST', '/clients', body);
      renderSheet(main, turnedUp);
      say(`${turnedUp.client.name} is turned up.`);
    } catch (error) {
      errors.hidden = false;
      replace(errors, problemText(error));
      submit.disabled = false;
    }
  });

  replace(main, h('h1', {tabindex: '-1'}, 'Turn up a client'), form);
}

function clubRow(container) {
  const clubId = h('input', {name: 'clubId', autocomplete: 'off', spellcheck: 'false'});
  const clubName = h('input', {name: 'clubName', autocomplete: 'off'});
  const row = h('div', {class: 'club-row inline-fields'},
    field('Club ID', clubId), field('Club name', clubName),
    h('button', {type: 'button', class: 'remove', 'aria-label': 'Remove this club', onclick: () => {
      if (container.children.length > 1) row.remove();
    }}, 'Remove'));
  return row;
}

/** The printable turn-up sheet, with the password this once. */
function renderSheet(main, turnedUp) {
  const sheet = turnedUp.turnUpSheet;
  const rows = [
    ['Client ID', sheet.clientId],
    ['Base URL', sheet.baseUrl],
    ['Club IDs', sheet.clubIds.join(', ')],
    ['Username', sheet.username],
  ];
  replace(main,
    h('h1', {tabindex: '-1'}, `Turn-up sheet — ${turnedUp.client.name}`),
    h('p', {class: 'no-print'}, 'Everything the Connector\'s team needs. Send the password separately from the rest.'),
    section('For the Connector',
      h('dl', {class: 'sheet', id: 'turn-up-sheet'}, rows.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
      oneTimeSecret('Password', turnedUp.credentials.password)),
    h('p', {class: 'no-print actions'},
      h('button', {type: 'button', onclick: () => window.print()}, 'Print'),
      h('a', {class: 'button primary', href: `#/clients/${encodeURIComponent(sheet.clientId)}`}, 'Done: open the client')));
}
