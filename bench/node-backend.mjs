// The peer for the backend load bench: the credential endpoint written the common way in
// Node (http + fetch, an access token cached with single-flight refresh), with the same
// auth check and per-user folder as `wxcs serve`. Usage: node node-backend.mjs PORT WX_BASE
import { createServer } from 'node:http';

const [port, wxBase] = process.argv.slice(2);
const APPID = 'wx0000000000emulator';
const SECRET = 'emulator-app-secret';
const ENV = 'dev-emulator';
let token;
let expiresAt = 0;
let pending;

function accessToken() {
  if (token && Date.now() < expiresAt) return token;
  pending ??= fetch(`${wxBase}/cgi-bin/stable_token`, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'client_credential', appid: APPID, secret: SECRET }),
  })
    .then((r) => r.json())
    .then((answer) => {
      token = answer.access_token;
      expiresAt = Date.now() + (answer.expires_in - 300) * 1000;
      pending = undefined;
      return token;
    });
  return pending;
}

createServer(async (request, response) => {
  const reply = (status, body) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  if (request.method !== 'POST' || request.url !== '/api/storage/upload-credentials') return reply(404, {});
  if (request.headers.authorization !== 'Bearer bench-token') return reply(401, { code: 'UNAUTHORIZED' });
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const { path } = JSON.parse(Buffer.concat(chunks));
  const key = `users/bench/${path}`;
  const answer = await fetch(`${wxBase}/tcb/uploadfile?access_token=${await accessToken()}`, {
    method: 'POST',
    body: JSON.stringify({ env: ENV, path: key }),
  }).then((r) => r.json());
  reply(200, { ...answer, key });
}).listen(Number(port), '127.0.0.1');
