// A customer's own web site for the embedding tests: a static page with Tidings' two
// snippets and deliberately hostile CSS, served on two origins — one registered in
// Tidings as a site, one not. Plain Node, 127.0.0.1 only.
'use strict';
const http = require('http');

const TIDINGS = process.env.TIDINGS_URL || 'http://127.0.0.1:3100';
const ports = (process.env.CUSTOMER_PORTS || '3200,3300').split(',').map(Number);

const page = (site) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example Bakery</title>
<style>
  /* A site's CSS is not written with our widget in mind; none of this may break it. */
  body { font-family: Georgia, serif; margin: 0; background: #fffaf2; color: #3b2f2f; }
  header, main { max-width: 40rem; margin: 0 auto; padding: 1rem 1.25rem; }
  h1 { font-size: 2rem; margin: 0.5rem 0; }
  button { display: none; }
  * { font-size: 40px; }
  p, li { font-size: 18px; line-height: 1.6; }
  h1 { font-size: 32px; }
  div { border: 4px dashed hotpink; }
</style>
</head>
<body>
<header><h1>Example Bakery</h1></header>
<main>
  <p>Fresh bread every morning. Get a note when the sourdough is out of the oven:</p>
  <div data-tidings></div>
  <p>Opening hours: 7–13 every day but Monday.</p>
</main>
<script src="${TIDINGS}/embed.js" data-site="${site}" async></script>
</body>
</html>`;

for (const port of ports) {
  http.createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (url.pathname === '/healthz') return res.end('ok');
    if (url.pathname === '/tidings-sw.js') {
      // The one-line worker file of the admin's snippet. CORS only so the admin's
      // browser can check it from Tidings' Sites page.
      res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*', 'cache-control': 'no-cache' });
      return res.end(`importScripts("${TIDINGS}/embed/sw.js");\n`);
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(url.searchParams.get('site') || ''));
    }
    if (url.pathname === '/fresh-bread') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end('<!doctype html><title>Fresh bread</title><h1>The sourdough is out</h1>');
    }
    res.writeHead(404);
    res.end('not found');
  }).listen(port, '127.0.0.1');
}
