// The admin console: a few screens over /admin/v1, chosen by the URL's fragment
// (#/clients, #/turn-up, #/clients/<id>). Nothing secret ever goes in the URL.

import {currentSession, onSessionEnded, signOut} from './api.js';
import {renderSignIn} from './sign-in.js';
import {renderClients} from './clients.js';
import {renderTurnUp} from './turn-up.js';
import {renderClient} from './client-page.js';
import {h, replace} from './dom.js';
import {problemText} from './format.js';
import {say} from './status.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let signedIn = false;

function showSignIn(message) {
  signedIn = false;
  nav.hidden = true;
  renderSignIn(main, {onSignedIn: () => { signedIn = true; route(); }, message});
}

async function route() {
  if (!signedIn) return showSignIn();
  nav.hidden = false;
  const path = location.hash.replace(/^#/, '') || '/clients';
  const client = path.match(/^\/clients\/([^/]+)$/);
  try {
    if (path === '/clients') await renderClients(main);
    else if (path === '/turn-up') await renderTurnUp(main);
    else if (client) await renderClient(main, decodeURIComponent(client[1]));
    else replace(main, h('h1', {tabindex: '-1'}, 'Not found'), h('p', {}, h('a', {href: '#/clients'}, 'Back to the clients')));
  } catch (error) {
    if (!signedIn) return;
    replace(main, h('h1', {tabindex: '-1'}, 'Could not load this page'), h('p', {class: 'error'}, problemText(error)));
  }
  const heading = main.querySelector('h1');
  if (heading) heading.focus();
}

onSessionEnded(() => {
  if (signedIn) showSignIn('Your session has ended; sign in again.');
});

document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await signOut();
    say('Signed out.');
  } catch (error) {
    say(problemText(error), 'error');
  }
  showSignIn();
});

window.addEventListener('hashchange', route);

(async () => {
  try {
    signedIn = (await currentSession()) !== null;
  } catch (error) {
    replace(main, h('h1', {}, 'The console cannot reach the server'), h('p', {class: 'error'}, problemText(error)));
    return;
  }
  route();
})();
