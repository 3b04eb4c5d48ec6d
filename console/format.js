// How times, health badges and problems read in the console.

export function dateTime(text) {
  if (!text) return '—';
  const date = new Date(text);
  return date.toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'medium'});
}

/** "3 minutes ago", for the last call. */
export function ago(text) {
  if (!text) return 'never';
  const seconds = Math.round((Date.now() - new Date(text).getTime()) / 1000);
  const units = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
  const format = new Intl.RelativeTimeFormat(undefined, {numeric: 'auto'});
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === 'second') return format.format(-Math.round(seconds / size), unit);
  }
  return '';
}

/** The health badge: its colour class and its words (never colour alone). */
export function healthBadge(health) {
  if (!health) return {tone: 'grey', text: 'Unknown'};
  switch (health.state) {
    case 'connected':
      return {tone: 'green', text: 'Connected'};
    case 'failing':
      if (health.openSyncErrors > 0) {
        return {tone: 'red', text: `${health.openSyncErrors} sync error${health.openSyncErrors === 1 ? '' : 's'}`};
      }
      return {tone: 'red', text: `Last call failed${health.lastFailureStatus ? ` (${health.lastFailureStatus})` : ''}`};
    case 'idle':
      return {tone: 'grey', text: `Idle since ${ago(health.lastSuccessAt)}`};
    default:
      return {tone: 'grey', text: 'Never called'};
  }
}

/** A problem's words: its detail, and each field error. */
export function problemText(error) {
  const problem = error && error.problem;
  if (!problem) return error && error.message ? error.message : 'Something went wrong.';
  const lines = [problem.detail || problem.title || `HTTP ${error.status}`];
  for (const fieldError of problem.errors || []) lines.push(`${fieldError.field}: ${fieldError.message}`);
  return lines.join(' — ');
}
