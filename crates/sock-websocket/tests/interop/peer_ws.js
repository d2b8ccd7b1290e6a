// Interop peer for sock-websocket's tests: Node's `ws` package.
//
//     node peer_ws.js server [CERT KEY]   // prints "PORT n", serves until stdin closes
//     node peer_ws.js client URI [CAFILE] // runs the script below, prints "OK" or fails
//     node peer_ws.js deflate-client URI  // compressed messages; prints "OK" or fails
//
// The server echoes each message with its type, selects the subprotocol
// "chat", pings every 50 ms, and answers the text "close-me" by closing with
// 4001 "as asked". Both ends have permessage-deflate on (ws's client has it
// by default, its server does not), compressing messages of 1 KiB and more.

'use strict';

const fs = require('fs');
const https = require('https');
const path = require('path');
const { WebSocket, WebSocketServer } = require(path.join(process.env.WS_MODULES, 'ws'));

const MAX = 32 * 1024 * 1024;

function runServer(cert, key) {
  const options = {
    maxPayload: MAX,
    perMessageDeflate: true,
    handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false),
  };
  let server;
  if (cert) {
    server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
    options.server = server;
  } else {
    options.host = '127.0.0.1';
    options.port = 0;
  }
  const wss = new WebSocketServer(options);
  wss.on('connection', (ws) => {
    const pinger = setInterval(() => ws.ping(), 50);
    ws.on('close', () => clearInterval(pinger));
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'close-me') {
        ws.close(4001, 'as asked');
      } else {
        ws.send(data, { binary: isBinary });
      }
    });
  });
  const announce = () => {
    const port = (server || wss).address().port;
    console.log(`PORT ${port}`);
  };
  if (server) {
    server.listen(0, '127.0.0.1', announce);
  } else {
    wss.on('listening', announce);
  }
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

function check(cond, what) {
  if (!cond) {
    console.error(`check failed: ${what}`);
    process.exit(1);
  }
}

function open(uri, ca) {
  const ws = new WebSocket(uri, ['chat'], { maxPayload: MAX, ca });
  const inbox = [];
  const waiting = [];
  ws.on('message', (data, isBinary) => {
    const item = { data, isBinary };
    if (waiting.length) waiting.shift()(item);
    else inbox.push(item);
  });
  ws.next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiting.push(r)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function runClient(uri, cafile) {
  const ca = cafile ? fs.readFileSync(cafile) : undefined;
  const ws = await open(uri, ca);
  check(ws.protocol === 'chat', `subprotocol ${ws.protocol}`);
  const big = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const cases = [
    ['hello', false],
    ['', false],
    ['wörld €𝄞', false],
    [Buffer.alloc(0), true],
    [Buffer.alloc(70000, 0xab), true],
    [big, true],
  ];
  for (const [data, binary] of cases) {
    ws.send(data, { binary });
    const echoed = await ws.next();
    check(echoed.isBinary === binary, 'message type');
    check(Buffer.compare(Buffer.from(echoed.data), Buffer.from(data)) === 0, `echo of ${data.length}`);
  }
  ws.send('frag', { fin: false });
  ws.send('men', { fin: false });
  ws.send('ted', { fin: true });
  const joined = await ws.next();
  check(!joined.isBinary && joined.data.toString() === 'fragmented', 'fragmented text');
  await new Promise((resolve) => {
    ws.once('pong', (data) => {
      check(data.toString() === 'ping!', 'pong payload');
      resolve();
    });
    ws.ping('ping!');
  });
  const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
  ws.close(1000, 'bye');
  const [code] = await closed;
  check(code === 1000, `close code ${code}`);

  const ws2 = await open(uri, ca);
  const closed2 = new Promise((resolve) => ws2.once('close', (code, reason) => resolve([code, reason.toString()])));
  ws2.send('close-me');
  const [code2, reason2] = await closed2;
  check(code2 === 4001 && reason2 === 'as asked', `close ${code2} ${reason2}`);
  console.log('OK');
  process.exit(0);
}

function jsonLines(size) {
  const out = [];
  let total = 0;
  for (let i = 0; total < size; i++) {
    const line = `{"seq":${i},"sensor":"probe-${i % 10}","ok":true}\n`;
    out.push(line);
    total += line.length;
  }
  return out.join('').slice(0, size);
}

async function runDeflateClient(uri) {
  const ws = await open(uri, undefined);
  check(ws.extensions === 'permessage-deflate', `extensions ${ws.extensions}`);
  const text = jsonLines(1 << 20);
  const cases = [
    ['', false],
    ['hello', false],
    [text, false],
    [Buffer.from(text), true],
    [Buffer.alloc(65536, 'abcd'), true],
  ];
  for (const [data, binary] of cases) {
    ws.send(data, { binary });
    const echoed = await ws.next();
    check(echoed.isBinary === binary, 'message type');
    check(Buffer.compare(Buffer.from(echoed.data), Buffer.from(data)) === 0, `echo of ${data.length}`);
  }
  ws.send(text.slice(0, 1000), { fin: false });
  ws.send(text.slice(1000, 5000), { fin: false });
  ws.send(text.slice(5000), { fin: true });
  const joined = await ws.next();
  check(!joined.isBinary && joined.data.toString() === text, 'fragmented compressed text');
  const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  ws.close(1000, 'bye');
  const code = await closed;
  check(code === 1000, `close code ${code}`);
  console.log('OK');
  process.exit(0);
}

const [role, a, b] = process.argv.slice(2);
if (role === 'server') {
  runServer(a, b);
} else if (role === 'deflate-client') {
  setTimeout(() => check(false, 'timed out'), 60000).unref();
  runDeflateClient(a).catch((e) => check(false, String(e)));
} else {
  setTimeout(() => check(false, 'timed out'), 60000).unref();
  runClient(a, b).catch((e) => check(false, String(e)));
}
