// Building elements without HTML strings: every piece of text goes in as a text
// node, so nothing a client, a Connector or an error message contains is ever
// parsed as markup (and the Content-Security-Policy needs no exception).

/**
 * h('button', {type: 'button', onclick: f, class: 'primary'}, 'Save')
 * Attributes named on… become event listeners; `true` sets a boolean
 * attribute, `false`/null/undefined leave it out; children may be strings,
 * numbers, elements, arrays, or null (skipped).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'value' && 'value' in element) {
      element.value = value;
    } else if (name === 'checked' || name === 'disabled' || name === 'hidden' || name === 'required' || name === 'selected') {
      element[name] = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces what `parent` holds with `children`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let nextId = 0;
/** A unique id, to tie a label to its control. */
export function uid(prefix = 'field') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled control: <div class="field"><label for=…>text</label><input id=…></div>. */
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid();
  const parts = [h('label', {for: control.id}, labelText), control];
  if (hint) {
    const hintId = uid('hint');
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', {class: 'hint', id: hintId}, hint));
  }
  return h('div', {class: 'field'}, parts);
}

/** A section of a page, with its heading as its accessible name. */
export function section(title, ...children) {
  const id = uid('section');
  return h('section', {class: 'panel', 'aria-labelledby': id}, h('h2', {id}, title), children);
}

/** A checkbox (or switch) with its label after it. */
export function check(labelText, input) {
  if (!input.id) input.id = uid('check');
  return h('div', {class: 'check'}, input, h('label', {for: input.id}, labelText));
}

/** A button that asks once more before doing something that cannot be undone. */
export function confirmingButton(text, question, confirmText, action) {
  const wrapper = h('span', {class: 'confirming'});
  const start = h('button', {type: 'button'}, text);
  const yes = h('button', {type: 'button', class: 'danger'}, confirmText);
  const no = h('button', {type: 'button'}, 'Cancel');
  const ask = h('span', {class: 'ask', hidden: true}, h('span', {class: 'question'}, question), ' ', yes, ' ', no);
  start.addEventListener('click', () => { start.hidden = true; ask.hidden = false; yes.focus(); });
  no.addEventListener('click', () => { ask.hidden = true; start.hidden = false; start.focus(); });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      await action();
    } finally {
      yes.disabled = false;
      ask.hidden = true;
      start.hidden = false;
    }
  });
  return append(wrapper, [start, ask]);
}
