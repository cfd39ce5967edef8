import type { ApiApp, AppDeps } from '../context';
import { PAGE_SECURITY_POLICY } from '../middleware/security-headers';

// A browsable API reference that works offline: a static page whose script (web/api-docs.js)
// renders ./openapi.json, the document generated from the validating schemas. The page holds no
// inline code, so it is sent with the dashboard's strict Content-Security-Policy (no framing,
// scripts and styles from this origin only). Relative URLs keep it working under both /api/v2 and
// /api/experimental.

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskd API reference</title>
<link rel="icon" href="/web/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/web/api-docs.css">
<script type="module" src="/web/api-docs.js"></script>
</head>
<body>
<h1 id="title">taskd API</h1>
<p id="desc"></p>
<p>Authenticate with the <code>Coder-Session-Token</code> header, <code>Authorization: Bearer</code>, or the
<code>coder_session_token</code> cookie. Machine-readable document: <a href="openapi.json">openapi.json</a>.</p>
<div id="ops">Loading…</div>
</body>
</html>
`;

export function registerDocsRoutes(api: ApiApp, _deps: AppDeps): void {
  api.get('/docs', (c) => {
    c.header('Content-Security-Policy', PAGE_SECURITY_POLICY);
    return c.html(PAGE);
  });
}
