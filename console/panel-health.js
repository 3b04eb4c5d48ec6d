import {badge} from './badge.js';
import {h, section} from './dom.js';
import {ago, dateTime} from './format.js';

/** The Connector's last calls, and "why is it refused?" with what is true now. */
export function healthPanel({health}) {
  const facts = [
    ['State', badge(health)],
    ['Last successful call', health.lastSuccessAt ? `${ago(health.lastSuccessAt)} (${dateTime(health.lastSuccessAt)})` : 'never'],
    ['Last failed call', health.lastFailureAt ? `${ago(health.lastFailureAt)} (${dateTime(health.lastFailureAt)}), answered ${health.lastFailureStatus}` : 'never'],
    ['Open sync errors', String(health.openSyncErrors)],
    ['Password issued', dateTime(health.credentialIssuedAt)],
  ];
  const causes = health.troubleshooting.map((cause) => h('li', {class: cause.applies ? 'cause applies' : 'cause', 'data-cause': cause.cause},
    h('span', {class: cause.applies ? 'verdict yes' : 'verdict no'}, cause.applies ? 'True now' : 'Not now'),
    h('strong', {}, `${causeTitle(cause.cause)} (${cause.status})`),
    h('p', {}, cause.detail)));
  return section('Connection health',
    h('dl', {class: 'facts', id: 'health'}, facts.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
    h('h3', {}, 'Why is the Connector refused?'),
    h('p', {class: 'hint'}, 'The usual causes of a 401, 403 or 422, and which of them is true of this client now.'),
    h('ul', {class: 'causes', id: 'troubleshooting'}, causes));
}

function causeTitle(cause) {
  return {
    'rotated-password': 'The password was rotated',
    'suspended-client': 'The client is suspended',
    'disabled-club': 'A club is switched off',
  }[cause] || cause;
}
