import type { ApiApp, AppDeps } from '../context';

// A browsable API reference that works offline: a static page whose inline script renders
// ./openapi.json (the document generated from the validating schemas). Relative URLs keep it
// working under both /api/v2 and /api/experimental.

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskd API reference</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 1rem 1.5rem; color: #1d2330; }
  h1 { margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #dde; }
  details { border: 1px solid #dde; border-radius: 6px; margin: .4rem 0; padding: .3rem .6rem; }
  summary { cursor: pointer; } code, pre { font: 13px/1.4 ui-monospace, monospace; }
  pre { background: #f5f6f9; padding: .6rem; overflow: auto; border-radius: 4px; }
  .m { display: inline-block; min-width: 4.2rem; font-weight: 600; text-transform: uppercase; }
  .get { color: #1565c0; } .post { color: #2e7d32; } .put, .patch { color: #ef6c00; } .delete { color: #c62828; }
  .lock { color: #888; font-size: 12px; margin-left: .4rem; }
</style>
</head>
<body>
<h1 id="title">taskd API</h1>
<p id="desc"></p>
<p>Authenticate with the <code>Coder-Session-Token</code> header, <code>Authorization: Bearer</code>, or the
<code>coder_session_token</code> cookie. Machine-readable document: <a href="openapi.json">openapi.json</a>.</p>
<div id="ops">Loading…</div>
<script>
(function () {
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function resolve(doc, schema) {
    var ref = schema && schema.$ref;
    return ref ? doc.components.schemas[ref.split('/').pop()] : schema;
  }
  fetch('openapi.json').then(function (r) { return r.json(); }).then(function (doc) {
    document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
    document.getElementById('desc').textContent = doc.info.description || '';
    var byTag = {};
    Object.keys(doc.paths).sort().forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags && op.tags[0]) || 'Other';
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    var root = document.getElementById('ops');
    root.textContent = '';
    Object.keys(byTag).sort().forEach(function (tag) {
      root.appendChild(el('h2', {}, tag));
      byTag[tag].forEach(function (o) {
        var d = el('details');
        var s = el('summary');
        s.appendChild(el('span', { class: 'm ' + o.method }, o.method));
        s.appendChild(el('code', {}, o.path));
        s.appendChild(document.createTextNode(' ' + (o.op.summary || '')));
        if (o.op.security && o.op.security.length) s.appendChild(el('span', { class: 'lock' }, 'auth'));
        d.appendChild(s);
        var body = o.op.requestBody && o.op.requestBody.content && o.op.requestBody.content['application/json'];
        if (body) {
          d.appendChild(el('h4', {}, 'Request body'));
          d.appendChild(el('pre', {}, JSON.stringify(resolve(doc, body.schema), null, 2)));
        }
        Object.keys(o.op.responses || {}).forEach(function (code) {
          var r = o.op.responses[code];
          var c = r.content && r.content['application/json'];
          d.appendChild(el('h4', {}, code + ' ' + (r.description || '')));
          if (c) d.appendChild(el('pre', {}, JSON.stringify(resolve(doc, c.schema), null, 2)));
        });
        root.appendChild(d);
      });
    });
  }).catch(function (err) {
    document.getElementById('ops').textContent = 'Could not load openapi.json: ' + err;
  });
})();
</script>
</body>
</html>
`;

export function registerDocsRoutes(api: ApiApp, _deps: AppDeps): void {
  api.get('/docs', (c) => c.html(PAGE));
}
