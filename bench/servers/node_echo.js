// node_echo.js: Node's idiomatic TCP echo server, for comparison in bench/run.sh.
//   node node_echo.js PORT [HOST]      prints "listening tcp://HOST:PORT" when bound
// socket.pipe(socket) gives back-pressure for free: the readable side pauses
// while the writable side's buffer is over its high-water mark.
'use strict';
const net = require('net');

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: node node_echo.js PORT [HOST]');
  process.exit(2);
}

// noDelay like the other servers here (a latency benchmark must not wait on Nagle).
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {}); // a reset peer is normal under load; pipe() closes the socket
  socket.pipe(socket);
});
server.on('error', (err) => { console.error(`node_echo: ${err.message}`); process.exit(1); });
server.listen({ port, host, backlog: 1024 }, () => {
  const a = server.address();
  const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  process.stdout.write(`listening tcp://${h}:${a.port}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
