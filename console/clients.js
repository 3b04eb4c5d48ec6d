import {all} from './api.js';
import {badge, statusTag} from './badge.js';
import {h, replace} from './dom.js';
import {ago} from './format.js';

/** Every client: status, clubs, and how its Connector's calls are going. */
export async function renderClients(main) {
  const clients = await all('/clients');
  const heading = h('h1', {tabindex: '-1'}, 'Clients');
  if (clients.length === 0) {
    replace(main, heading, h('p', {}, 'No client is turned up yet. ', h('a', {href: '#/turn-up'}, 'Turn up the first one.')));
    return;
  }
  const rows = clients.map((client) => {
    const enabled = client.clubs.filter((club) => club.enabled).length;
    const health = client.health;
    return h('tr', {'data-client-id': client.clientId},
      h('td', {'data-label': 'Client'}, h('a', {href: `#/clients/${encodeURIComponent(client.clientId)}`}, client.name), h('div', {class: 'muted'}, client.clientId)),
      h('td', {'data-label': 'Status'}, statusTag(client.status)),
      h('td', {'data-label': 'Clubs'}, `${enabled} of ${client.clubs.length} on`,
        h('div', {class: 'muted'}, client.clubs.map((club) => club.clubId).join(', '))),
      h('td', {'data-label': 'Connection'}, badge(health)),
      h('td', {'data-label': 'Last call'}, health && (health.lastSuccessAt || health.lastFailureAt)
        ? ago(latest(health.lastSuccessAt, health.lastFailureAt)) : 'never'));
  });
  replace(main, heading,
    h('p', {}, h('a', {href: '#/turn-up', class: 'button primary'}, 'Turn up a client')),
    h('table', {class: 'list', id: 'clients'},
      h('caption', {class: 'visually-hidden'}, 'Turned-up clients'),
      h('thead', {}, h('tr', {}, ['Client', 'Status', 'Clubs', 'Connection', 'Last call'].map((name) => h('th', {scope: 'col'}, name)))),
      h('tbody', {}, rows)));
}

function latest(a, b) {
  if (!a) return b;
  if (!b) return a;
  return new Date(a) > new Date(b) ? a : b;
}
