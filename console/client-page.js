import {api, segment} from './api.js';
import {badge, statusTag} from './badge.js';
import {h, replace} from './dom.js';
import {problemText} from './format.js';
import {say} from './status.js';
import {healthPanel} from './panel-health.js';
import {syncErrorsPanel} from './panel-sync-errors.js';
import {clubsPanel} from './panel-clubs.js';
import {connectionPanel} from './panel-connection.js';
import {credentialsPanel} from './panel-credentials.js';
import {optionsPanel} from './panel-options.js';
import {staffPanel} from './panel-staff.js';
import {webhooksPanel} from './panel-webhooks.js';
import {auditPanel} from './panel-audit.js';

/**
 * One client: health and troubleshooting first (what an admin opens it for),
 * then its sync errors, clubs, connection and Verify, credentials, options,
 * staff, webhook endpoints and audit trail. Every panel reads the client through `context`;
 * `context.reload()` draws the page again from the server.
 */
export async function renderClient(main, clientId) {
  const path = `/clients/${segment(clientId)}`;
  const [client, health, syncErrors] = await Promise.all([
    api('GET', path), api('GET', `${path}/health`), api('GET', `${path}/sync-errors?limit=500`),
  ]);
  const context = {
    client, health, path,
    syncErrors: syncErrors.items,
    reload: () => renderClient(main, clientId).catch((error) => say(problemText(error), 'error')),
    /** Runs a change, says how it went, and redraws the page when asked. */
    async change(action, done, {reload = true} = {}) {
      try {
        const result = await action();
        if (done) say(done);
        if (reload) await context.reload();
        return result;
      } catch (error) {
        say(problemText(error), 'error');
        return undefined;
      }
    },
  };
  const suspend = client.status === 'active'
    ? h('button', {type: 'button', onclick: () => context.change(() => api('PATCH', path, {status: 'suspended'}), `${client.name} is suspended: its Connector's calls are refused 403.`)}, 'Suspend')
    : h('button', {type: 'button', onclick: () => context.change(() => api('PATCH', path, {status: 'active'}), `${client.name} is active again.`)}, 'Resume');
  const live = {badge: badge(health), health: healthPanel(context), syncErrors: syncErrorsPanel(context)};
  replace(main,
    h('p', {class: 'crumbs'}, h('a', {href: '#/clients'}, 'Clients'), ' / ', client.clientId),
    h('div', {class: 'title-row'},
      h('h1', {tabindex: '-1'}, client.name),
      statusTag(client.status), live.badge,
      h('span', {class: 'spacer'}),
      h('button', {type: 'button', id: 'refresh', onclick: async () => { await context.reload(); say('Up to date.'); }}, 'Refresh'),
      suspend),
    h('div', {class: 'panels'},
      live.health,
      live.syncErrors,
      clubsPanel(context),
      connectionPanel(context),
      credentialsPanel(context),
      optionsPanel(context),
      staffPanel(context),
      webhooksPanel(context),
      auditPanel(context)));
  keepCurrent(main, context, live);
}

/** How often the health and the sync errors are read again while the page is shown. */
const liveInterval = 20000;

/**
 * Keeps the badge, the health and the sync errors current while the page is
 * open and visible, as the Connector's calls come in: a fixed error disappears
 * without a click. Only those three are redrawn (they hold no control being
 * used); the timer stops once the page has been left or redrawn.
 */
function keepCurrent(main, context, live) {
  const timer = setInterval(async () => {
    if (!main.contains(live.health)) {
      clearInterval(timer);
      return;
    }
    if (document.visibilityState !== 'visible') return;
    try {
      const [health, syncErrors] = await Promise.all([
        api('GET', `${context.path}/health`), api('GET', `${context.path}/sync-errors?limit=500`),
      ]);
      if (!main.contains(live.health)) return;
      const next = {...context, health, syncErrors: syncErrors.items};
      for (const [name, draw] of [['badge', () => badge(health)], ['health', () => healthPanel(next)], ['syncErrors', () => syncErrorsPanel(next)]]) {
        const drawn = draw();
        live[name].replaceWith(drawn);
        live[name] = drawn;
      }
    } catch {
      // The next tick tries again; a 401 has already shown the sign-in screen.
    }
  }, liveInterval);
}
