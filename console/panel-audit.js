import {all} from './api.js';
import {h, replace, section} from './dom.js';
import {dateTime, problemText} from './format.js';

/** Every admin change to the client, newest first: who, when, what (never a secret). */
export function auditPanel({path}) {
  const list = h('div', {id: 'audit'}, h('p', {}, 'Loading…'));
  all(`${path}/audit`).then((events) => {
    replace(list, h('table', {class: 'list audit'},
      h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Changes'].map((name) => h('th', {scope: 'col'}, name)))),
      h('tbody', {}, events.reverse().map((event) => h('tr', {},
        h('td', {'data-label': 'When'}, dateTime(event.occurredAt)),
        h('td', {'data-label': 'Who'}, event.actor),
        h('td', {'data-label': 'What'}, h('code', {}, event.action)),
        h('td', {'data-label': 'Changes'}, h('code', {class: 'changes'}, JSON.stringify(event.changes))))))));
  }).catch((error) => replace(list, h('p', {class: 'error'}, problemText(error))));
  return section('Audit trail', list);
}
