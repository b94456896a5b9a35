// Starts web-push-testing (a push service that verifies VAPID and decrypts) on 127.0.0.1
// only: its own CLI listens on every interface and detaches, which a test run must not do.
'use strict';
const http = require('http');
const TestingServer = require('web-push-testing/src/server.js');
const { PushApiModel } = require('web-push-testing/src/PushApiModel.js');

const port = Number(process.env.PUSH_SERVICE_PORT || 8090);
const server = new TestingServer(new PushApiModel(), port);
server._app.get('/healthz', (_req, res) => res.sendStatus(200));
// Open to every origin: a service worker under test asks it for a subscription itself
// (helpers.ts, standInInWorker), a cross-origin fetch.
const withCors = (req, res) => {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', 'content-type');
  if (req.method === 'OPTIONS') {
    res.writeHead(204);
    return res.end();
  }
  return server._app(req, res);
};
server._app.listen = (p, callback) => http.createServer(withCors).listen(p, '127.0.0.1', callback);
server.startServer();
