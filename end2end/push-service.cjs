// Starts web-push-testing (a push service that verifies VAPID and decrypts) on 127.0.0.1
// only: its own CLI listens on every interface and detaches, which a test run must not do.
'use strict';
const http = require('http');
const TestingServer = require('web-push-testing/src/server.js');
const { PushApiModel } = require('web-push-testing/src/PushApiModel.js');

const port = Number(process.env.PUSH_SERVICE_PORT || 8090);
const server = new TestingServer(new PushApiModel(), port);
server._app.get('/healthz', (_req, res) => res.sendStatus(200));
server._app.listen = (p, callback) => http.createServer(server._app).listen(p, '127.0.0.1', callback);
server.startServer();
