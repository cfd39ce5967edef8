// The API reference page (/api/v2/docs) renders the OpenAPI document next to it. It is a file of its
// own rather than an inline script so the page can be sent with a Content-Security-Policy that
// allows scripts from this origin only.

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A schema, or the component a `$ref` names. */
function resolve(doc, schema) {
  const ref = schema?.$ref;
  return ref ? doc.components.schemas[ref.split('/').pop()] : schema;
}

function operation(doc, { path, method, op }) {
  const block = el('details');
  const summary = el('summary');
  summary.append(el('span', { class: `m ${method}` }, method), el('code', {}, path), ` ${op.summary ?? ''}`);
  if (op.security?.length) summary.append(el('span', { class: 'lock' }, 'auth'));
  block.append(summary);
  const body = op.requestBody?.content?.['application/json'];
  if (body) block.append(el('h4', {}, 'Request body'), el('pre', {}, JSON.stringify(resolve(doc, body.schema), null, 2)));
  for (const [code, response] of Object.entries(op.responses ?? {})) {
    block.append(el('h4', {}, `${code} ${response.description ?? ''}`));
    const json = response.content?.['application/json'];
    if (json) block.append(el('pre', {}, JSON.stringify(resolve(doc, json.schema), null, 2)));
  }
  return block;
}

async function render() {
  const root = document.getElementById('ops');
  try {
    // relative: the page is served under /api/v2 and /api/experimental alike
    const doc = await (await fetch('openapi.json')).json();
    document.getElementById('title').textContent = `${doc.info.title} ${doc.info.version}`;
    document.getElementById('desc').textContent = doc.info.description ?? '';
    const byTag = new Map();
    for (const path of Object.keys(doc.paths).sort()) {
      for (const [method, op] of Object.entries(doc.paths[path])) {
        const tag = op.tags?.[0] ?? 'Other';
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push({ path, method, op });
      }
    }
    root.textContent = '';
    for (const tag of [...byTag.keys()].sort()) {
      root.append(el('h2', {}, tag), ...byTag.get(tag).map((o) => operation(doc, o)));
    }
  } catch (err) {
    root.textContent = `Could not load openapi.json: ${err}`;
  }
}

render();
