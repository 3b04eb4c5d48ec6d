import {api} from './api.js';
import {h, field, replace, section} from './dom.js';
import {problemText} from './format.js';
import {say} from './status.js';

/** Where the Connector calls, and Verify: the calls it would make, step by step. */
export function connectionPanel(context) {
  const {client, path} = context;
  const connection = client.connection;
  const scheme = h('select', {name: 'scheme'},
    ['https', 'http'].map((value) => h('option', {value, selected: value === connection.scheme}, value)));
  const host = h('input', {name: 'host', required: true, value: connection.host, autocomplete: 'off', spellcheck: 'false'});
  const port = h('input', {name: 'port', type: 'number', min: '1', max: '65535', required: true, value: String(connection.port), inputmode: 'numeric'});
  const edit = h('form', {class: 'inline-fields'}, field('Scheme', scheme), field('Host', host), field('Port', port), h('button', {type: 'submit'}, 'Save connection'));
  edit.addEventListener('submit', (event) => {
    event.preventDefault();
    context.change(() => api('PATCH', path, {connection: {scheme: scheme.value, host: host.value.trim(), port: Number(port.value)}}), 'Connection saved.');
  });

  const password = h('input', {type: 'password', name: 'password', autocomplete: 'off', id: 'verify-password'});
  const results = h('div', {id: 'verify-results', 'aria-live': 'polite'});
  const verifyButton = h('button', {type: 'submit', class: 'primary', id: 'verify'}, 'Verify');
  const verify = h('form', {class: 'verify'},
    field('Connector password (optional)', password, 'With it, Verify also makes an authenticated call. It is sent in the request body for this check only, and cleared here.'),
    verifyButton);
  verify.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = password.value ? {password: password.value} : undefined;
    password.value = '';
    verifyButton.disabled = true;
    replace(results, h('p', {}, 'Calling the connection as the Connector would…'));
    try {
      const answer = await api('POST', `${path}/verify`, body);
      const passed = answer.steps.every((step) => step.ok);
      replace(results,
        h('p', {class: passed ? 'ok-text' : 'error'}, passed ? 'Every step passed.' : 'A step failed: see its detail.'),
        h('table', {class: 'list steps'},
          h('thead', {}, h('tr', {}, ['Step', 'Result', 'Status', 'Latency', 'Detail'].map((name) => h('th', {scope: 'col'}, name)))),
          h('tbody', {}, answer.steps.map((step) => h('tr', {class: step.ok ? 'step ok' : 'step failed', 'data-step': step.name},
            h('td', {'data-label': 'Step'}, step.name),
            h('td', {'data-label': 'Result'}, h('span', {class: `badge ${step.ok ? 'green' : 'red'}`}, step.ok ? 'ok' : 'failed')),
            h('td', {'data-label': 'Status'}, step.status === null || step.status === undefined ? '—' : String(step.status)),
            h('td', {'data-label': 'Latency'}, step.latencyMs === null || step.latencyMs === undefined ? '—' : `${step.latencyMs} ms`),
            h('td', {'data-label': 'Detail'}, step.detail || ''))))));
    } catch (error) {
      replace(results, h('p', {class: 'error'}, problemText(error)));
      say(problemText(error), 'error');
    } finally {
      verifyButton.disabled = false;
    }
  });

  return section('Connection',
    h('p', {}, 'The Connector calls ', h('code', {id: 'base-url'}, `${connection.scheme}://${connection.host}:${connection.port}`), '.'),
    edit,
    h('h3', {}, 'Verify'),
    h('p', {class: 'hint'}, 'Calls the connection over the network as the Connector would: /healthz reachable, an unauthenticated call refused 401, and with the password an authenticated call answered 200.'),
    verify, results);
}
