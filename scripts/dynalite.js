#!/usr/bin/env node
// The tests' local DynamoDB: the pinned dynalite, started as its own cli.js
// starts it (same options: --host, --port, --createTableMs, ...), with one
// difference.
//
// dynalite 4.0.0 rethrows a request's 'error' event (index.js,
// `req.on('error', function (err) { throw err })`). Node emits that event,
// ECONNRESET "aborted", whenever a client closes its connection while a
// request is still unanswered, and the rethrow ends the whole server, so
// every later test sees "connection refused". Clients do close such
// connections, legitimately: `chainaudit verify` stops at the first Scan
// segment that fails (say, ResourceNotFound) and exits while the other
// segments' requests are in flight, and a read timeout closes its socket.
// DynamoDB drops such a request and carries on; so does this server. Any
// other uncaught error still ends it, loudly.
'use strict'

const argv = require('minimist')(process.argv.slice(2))

process.on('uncaughtException', function (err) {
  if (err && err.code === 'ECONNRESET' && err.message === 'aborted') {
    console.error('dynalite: a client closed its connection before its answer; request dropped')
    return
  }
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})

const server = require('dynalite')(argv).listen(argv.port || 4567, argv.host || undefined, function () {
  console.log('Dynalite listening at: http://%s:%s', argv.host || 'localhost', server.address().port)
})
