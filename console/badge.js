import {h} from './dom.js';
import {healthBadge} from './format.js';

/** The connection health badge: a colour and the words that say the same. */
export function badge(health) {
  const {tone, text} = healthBadge(health);
  return h('span', {class: `badge ${tone}`, 'data-state': health ? health.state : 'unknown'}, text);
}

/** Active / suspended. */
export function statusTag(status) {
  return h('span', {class: `tag ${status}`}, status === 'active' ? 'Active' : 'Suspended');
}
