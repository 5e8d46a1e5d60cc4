// Socket.IO 4 peer: socket.join(room) with an ack; a publication goes out
// with io.to(room).emit('m', data).
// usage: NODE_PATH=bench/.deps/node/node_modules node socketio.js PORT
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2]);
const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    socket.join(String(room));
    if (typeof ack === 'function') ack('ok');
  });
  socket.on('pub', (msg) => {
    if (msg && msg.room !== undefined) io.to(String(msg.room)).emit('m', msg.data);
  });
});
httpServer.listen({ host: '127.0.0.1', port, backlog: 4096 }, () =>
  console.error(`socket.io listening on 127.0.0.1:${port}`),
);
