// Node `ws` peer: rooms are Sets of sockets; a publication is stringified once
// and sent to every open subscriber with ws.send().
// usage: NODE_PATH=bench/.deps/node/node_modules node node-ws.js PORT
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2]);
const rooms = new Map();
const wss = new WebSocketServer({ host: '127.0.0.1', port, backlog: 4096 });

wss.on('connection', (ws) => {
  let room = null;
  const leave = () => {
    const members = room === null ? undefined : rooms.get(room);
    if (members) {
      members.delete(ws);
      if (members.size === 0) rooms.delete(room);
    }
    room = null;
  };
  ws.on('error', () => {}); // a reset socket is closed by ws itself
  ws.on('close', leave);
  ws.on('message', (raw) => {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (msg.type === 'join') {
      leave();
      room = String(msg.room);
      if (!rooms.has(room)) rooms.set(room, new Set());
      rooms.get(room).add(ws);
      ws.send(JSON.stringify({ type: 'joined', room }));
    } else if (msg.type === 'pub') {
      const members = rooms.get(String(msg.room));
      if (!members) return;
      const out = JSON.stringify({ type: 'msg', room: msg.room, data: msg.data });
      for (const client of members) {
        if (client.readyState === WebSocket.OPEN) client.send(out);
      }
    }
  });
});
wss.on('listening', () => console.error(`node-ws listening on 127.0.0.1:${port}`));
