import {api, all, segment} from './api.js';
import {h, check, confirmingButton, field, replace, section, uid} from './dom.js';
import {dateTime, problemText} from './format.js';
import {oneTimeSecret} from './one-time-secret.js';
import {say} from './status.js';

/** The event types an endpoint may be limited to (openapi.yaml, WebhookEventTypes). */
const eventTypes = ['prospect.created', 'prospect.updated', 'prospect.converted', 'member.created', 'member.updated',
  'lead_source.created', 'lead_source.updated', 'staff.created', 'staff.updated'];

/** Why an endpoint is disabled, in words (disabledReason). */
const disabledReasons = {
  admin: 'turned off by an admin',
  gone: 'it answered 410 Gone',
  failing: 'every attempt failed for the auto-disable period',
};

/** Unlike a password, the receiver keeps the secret (it signs with it), but never shows it again. */
const secretWarning = 'Shown this once: no page or API call shows it again. Copy it now for the club system; to get another, rotate.';

/** How many attempts one page of the delivery log shows. */
const logPageSize = 25;

/**
 * The client's webhook endpoints: their state, add (the secret shown once),
 * enable/disable, rotate the secret, delete, and one endpoint's delivery log
 * with Resend per event and Recover since a time.
 */
export function webhooksPanel({path}) {
  const endpointsPath = `${path}/webhook-endpoints`;
  const list = h('div', {id: 'webhook-endpoints'}, h('p', {}, 'Loading…'));
  const revealed = h('div', {id: 'webhook-revealed'});
  const log = h('div', {id: 'webhook-log', 'aria-live': 'polite'});
  let shownLog = null;

  const draw = async () => {
    try {
      const endpoints = await all(endpointsPath);
      if (endpoints.length === 0) {
        replace(list, h('p', {class: 'muted', id: 'webhook-endpoints-none'}, 'No webhook endpoints: club systems read the change feed.'));
        return;
      }
      replace(list, h('table', {class: 'list webhooks'},
        h('thead', {}, h('tr', {}, ['URL', 'Description', 'State', 'Last success', 'Failing since', ''].map((name) => h('th', {scope: 'col'}, name)))),
        h('tbody', {}, endpoints.map((endpoint) => endpointRow(endpoint)))));
    } catch (error) {
      replace(list, h('p', {class: 'error'}, problemText(error)));
    }
  };

  /** A change to one endpoint: draws the list (and the open log) again, then says how it went. */
  const change = async (action, done) => {
    try {
      const result = await action();
      await draw();
      if (shownLog) await shownLog();
      say(typeof done === 'function' ? done(result) : done);
      return result;
    } catch (error) {
      say(problemText(error), 'error');
      return undefined;
    }
  };

  const endpointRow = (endpoint) => {
    const endpointPath = `${endpointsPath}/${segment(endpoint.id)}`;
    const state = endpoint.enabled
      ? h('span', {class: 'ok-text'}, 'Enabled')
      : h('span', {class: 'error'}, 'Disabled', endpoint.disabledReason ? `: ${disabledReasons[endpoint.disabledReason] || endpoint.disabledReason}` : '');
    const name = h('span', {class: 'visually-hidden'}, ` ${endpoint.url}`);
    const toggle = h('button', {type: 'button', onclick: () => change(
      () => api('PATCH', endpointPath, {enabled: !endpoint.enabled}),
      endpoint.enabled ? 'Disabled: its events wait until it is enabled again.' : 'Enabled: delivery resumes from its first undelivered event.')},
    endpoint.enabled ? 'Disable' : 'Enable', name.cloneNode(true));
    const rotate = confirmingButton('Rotate secret', 'The old secret signs beside the new one for 24 hours.', 'Rotate now', async () => {
      const issued = await change(() => api('POST', `${endpointPath}/secret`), 'Rotated: give the club system the new secret.');
      if (issued) replace(revealed, h('p', {}, 'New secret of ', h('code', {}, endpoint.url), '.'), oneTimeSecret('New signing secret', issued.secret, 'webhook-secret', secretWarning));
    });
    const remove = confirmingButton('Delete', 'Its undelivered events and its log go too.', 'Delete now', async () => {
      await change(async () => {
        await api('DELETE', endpointPath);
        // Its log is gone with it: closed before the redraw would read it.
        if (shownLog && shownLog.endpointId === endpoint.id) {
          shownLog = null;
          replace(log);
        }
      }, 'Deleted.');
    });
    const deliveries = h('button', {type: 'button', class: 'deliveries', onclick: () => showLog(endpoint)}, 'Delivery log', name.cloneNode(true));
    return h('tr', {'data-endpoint-id': endpoint.id, class: endpoint.enabled ? 'endpoint' : 'endpoint disabled'},
      h('td', {'data-label': 'URL'}, h('code', {}, endpoint.url),
        endpoint.eventTypes.length ? h('p', {class: 'hint'}, endpoint.eventTypes.join(', ')) : h('p', {class: 'hint'}, 'Every event type'),
        endpoint.rateLimit ? h('p', {class: 'hint'}, `At most ${endpoint.rateLimit} a second`) : null),
      h('td', {'data-label': 'Description'}, endpoint.description || ''),
      h('td', {'data-label': 'State', class: 'state'}, state,
        endpoint.disableWarningAt ? h('p', {class: 'error'}, `Warned ${dateTime(endpoint.disableWarningAt)}: it will be disabled if every attempt keeps failing.`) : null),
      h('td', {'data-label': 'Last success'}, endpoint.lastSuccessAt ? dateTime(endpoint.lastSuccessAt) : 'never'),
      h('td', {'data-label': 'Failing since'}, endpoint.failingSince ? h('span', {class: 'error'}, dateTime(endpoint.failingSince)) : '—'),
      h('td', {}, h('div', {class: 'row-actions'}, deliveries, toggle, rotate, remove)));
  };

  /** One endpoint's delivery log: a status filter, pages by nextCursor, Resend, Recover since. */
  const showLog = (endpoint) => {
    const endpointPath = `${endpointsPath}/${segment(endpoint.id)}`;
    const filter = h('select', {name: 'deliveryStatus'},
      [['', 'All'], ['pending', 'Pending'], ['succeeded', 'Succeeded'], ['failed', 'Failed']].map(([value, text]) => h('option', {value}, text)));
    const rows = h('tbody', {});
    const table = h('table', {class: 'list deliveries-log'},
      h('thead', {}, h('tr', {}, ['Event', 'Attempt', 'At', 'Status', 'Latency', 'Delivery', 'Error', ''].map((name) => h('th', {scope: 'col'}, name)))),
      rows);
    const empty = h('p', {class: 'muted', id: 'webhook-log-none', hidden: true}, 'No deliveries.');
    const more = h('button', {type: 'button', id: 'webhook-log-more', hidden: true}, 'Older deliveries');
    let cursor = null;
    // Resend is offered once per event: on its latest attempt (the log is newest first).
    // A row is red when its attempt failed, or when the event's delivery did (retries ran out).
    let resendOffered = new Set();

    const deliveryRow = (delivery) => {
      const resend = resendOffered.has(delivery.eventId) ? null : h('button', {type: 'button', class: 'resend', onclick: () => change(
        () => api('POST', `${endpointPath}/deliveries/${segment(delivery.eventId)}/resend`),
        'Resent: the event is due now.')}, 'Resend', h('span', {class: 'visually-hidden'}, ` ${delivery.eventId}`));
      resendOffered.add(delivery.eventId);
      const failedAttempt = delivery.error !== null || (delivery.status !== null && (delivery.status < 200 || delivery.status > 299));
      return h('tr', {class: `delivery ${delivery.deliveryStatus}${failedAttempt ? ' attempt-failed' : ''}`, 'data-event-id': delivery.eventId, 'data-attempt': delivery.attempt === null ? '' : String(delivery.attempt)},
        h('td', {'data-label': 'Event'}, h('code', {}, delivery.eventId), h('p', {class: 'hint'}, delivery.eventType)),
        h('td', {'data-label': 'Attempt'}, delivery.attempt === null ? 'not yet' : String(delivery.attempt)),
        h('td', {'data-label': 'At'}, delivery.at ? dateTime(delivery.at) : `due ${dateTime(delivery.nextAttemptAt)}`),
        h('td', {'data-label': 'Status', class: failedAttempt ? 'error' : ''}, delivery.status === null ? '—' : String(delivery.status)),
        h('td', {'data-label': 'Latency'}, delivery.latencyMs === null ? '—' : `${delivery.latencyMs} ms`),
        h('td', {'data-label': 'Delivery', class: 'delivery-status'}, delivery.deliveryStatus),
        h('td', {'data-label': 'Error', class: 'error'}, delivery.error || ''),
        h('td', {}, resend));
    };

    const readPage = async (first) => {
      try {
        const query = new URLSearchParams({limit: String(logPageSize)});
        if (filter.value) query.set('status', filter.value);
        if (!first && cursor) query.set('cursor', cursor);
        const page = await api('GET', `${endpointPath}/deliveries?${query}`);
        if (first) {
          rows.replaceChildren();
          resendOffered = new Set();
        }
        for (const delivery of page.items) rows.append(deliveryRow(delivery));
        cursor = page.nextCursor;
        more.hidden = !cursor;
        empty.hidden = rows.childElementCount > 0;
        table.hidden = rows.childElementCount === 0;
      } catch (error) {
        say(problemText(error), 'error');
      }
    };
    filter.addEventListener('change', () => readPage(true));
    more.addEventListener('click', () => readPage(false));
    const refresh = h('button', {type: 'button', id: 'webhook-log-refresh', onclick: () => readPage(true)}, 'Refresh log');

    const hourAgo = new Date(Date.now() - 3600 * 1000 - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    const since = h('input', {type: 'datetime-local', name: 'since', required: true, value: hourAgo, step: '60'});
    const recover = h('form', {class: 'inline-fields', id: 'webhook-recover-form'},
      field('Recover since (your time)', since), h('button', {type: 'submit'}, 'Recover'));
    recover.addEventListener('submit', (event) => {
      event.preventDefault();
      const instant = new Date(since.value);
      if (Number.isNaN(instant.getTime())) return say('Give the time the outage began.', 'error');
      change(() => api('POST', `${endpointPath}/recover`, {since: instant.toISOString()}),
        (answer) => `Recovered: ${answer.deliveries} deliver${answer.deliveries === 1 ? 'y' : 'ies'} sent again.`);
    });

    const headingId = uid('log');
    replace(log,
      h('h3', {id: headingId, tabindex: '-1'}, 'Delivery log of ', h('code', {}, endpoint.url)),
      h('div', {class: 'inline-fields'}, field('Delivery status', filter), refresh),
      table, empty, more,
      h('p', {class: 'hint'}, 'After an outage of the club system, Recover sends again now every delivery not delivered whose attempt failed since then.'),
      recover);
    shownLog = () => readPage(true);
    shownLog.endpointId = endpoint.id;
    document.getElementById(headingId).focus();
    return readPage(true);
  };

  const url = h('input', {type: 'url', name: 'url', required: true, maxlength: '2000', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://crm.example.com/hooks/receiver'});
  const description = h('input', {name: 'description', maxlength: '500', autocomplete: 'off'});
  const types = eventTypes.map((type) => h('input', {type: 'checkbox', name: 'eventTypes', value: type}));
  const rateLimit = h('input', {type: 'number', name: 'rateLimit', min: '1', max: '1000000', inputmode: 'numeric'});
  const add = h('form', {id: 'webhook-add-form'},
    h('div', {class: 'inline-fields'}, field('URL', url), field('Description', description),
      field('Deliveries a second at most (optional)', rateLimit)),
    h('fieldset', {class: 'event-types'}, h('legend', {}, 'Event types'),
      h('p', {class: 'hint'}, 'None ticked: every type.'),
      types.map((input) => check(input.value, input))),
    h('button', {type: 'submit', class: 'primary'}, 'Add endpoint'));
  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      url: url.value.trim(),
      description: description.value.trim() || null,
      eventTypes: types.filter((input) => input.checked).map((input) => input.value),
      rateLimit: rateLimit.value ? Number(rateLimit.value) : null,
    };
    const created = await change(() => api('POST', endpointsPath, body), 'Added: give the club system its signing secret.');
    if (created) {
      add.reset();
      replace(revealed, h('p', {}, 'Signing secret of ', h('code', {}, created.url), '.'), oneTimeSecret('Signing secret', created.secret, 'webhook-secret', secretWarning));
    }
  });

  draw();
  const panel = section('Webhook endpoints',
    h('p', {class: 'hint'}, 'Club systems that get each event POSTed, signed (Standard Webhooks), retried for three days.'),
    list, revealed, log,
    h('h3', {}, 'Add an endpoint'), add);
  panel.classList.add('wide');
  panel.id = 'webhooks';
  return panel;
}
