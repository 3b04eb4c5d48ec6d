import {h, section} from './dom.js';
import {dateTime} from './format.js';

/** Rejected Connector writes, in red, until a later write of the record succeeds. */
export function syncErrorsPanel({syncErrors}) {
  if (syncErrors.length === 0) {
    return section('Sync errors', h('p', {class: 'ok-text', id: 'sync-errors-none'}, 'No open sync errors: every rejected write has since been corrected.'));
  }
  return section(`Sync errors (${syncErrors.length})`,
    h('p', {class: 'hint'}, 'Writes the receiver refused. Each disappears once the Connector writes the same record successfully.'),
    h('ul', {class: 'sync-errors', id: 'sync-errors'}, syncErrors.map((error) => {
      const problem = error.problem || {};
      return h('li', {class: 'sync-error', 'data-external-id': error.externalId || ''},
        h('div', {class: 'sync-error-head'},
          h('strong', {}, `${problem.status || ''} ${problem.title || 'Refused'}`),
          ' ', h('code', {}, error.operation),
          error.externalId ? [' — external ID ', h('code', {}, error.externalId)] : null),
        problem.detail ? h('p', {}, problem.detail) : null,
        (problem.errors || []).length ? h('ul', {class: 'field-errors'}, problem.errors.map((fieldError) =>
          h('li', {}, h('code', {}, fieldError.field), ': ', fieldError.message))) : null,
        h('p', {class: 'muted'}, dateTime(error.occurredAt), error.requestId ? ` · request ${error.requestId}` : ''));
    })));
}
