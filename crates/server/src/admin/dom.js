// Builds DOM nodes from data without ever parsing it as HTML: text goes in with textContent,
// attributes with setAttribute, so a customer's name or a message payload can never become
// markup or script (the Content-Security-Policy forbids inline script besides).

/**
 * Creates an element.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs] attributes; `on*` functions become listeners,
 *   `class` and other names become attributes; false/null/undefined are left out.
 * @param {...(Node|string|number|null|undefined|false)} children text or nodes
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'value' || name === 'checked') {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends text or nodes (nested arrays flattened, empty values skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A date-time as the reader's locale writes it, with the ISO value as a machine-readable title. */
export function time(iso) {
  if (!iso) return h('span', {}, '—');
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
  return h('time', { datetime: iso, title: iso }, text);
}

/** A definition list from [label, value] pairs; values may be nodes; empty ones show a dash. */
export function facts(pairs, cls = 'facts') {
  return h(
    'dl',
    { class: cls },
    pairs.map(([label, value]) => [
      h('dt', {}, label),
      h('dd', {}, value === undefined || value === null || value === '' ? '—' : value),
    ]),
  );
}

/** Pretty JSON as preformatted text. */
export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}
