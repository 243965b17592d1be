import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { startStack } from './harness/stack';
import { rssBytes, servingPid, mb } from './integration/app-process';
const rnd = (n: number) => randomBytes(n).toString('base64url').slice(0, n);
async function flood(port: number, count: number, path: (i: number) => string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let next = 0;
  const worker = async () => { for (let i = next++; i < count; i = next++) await new Promise<void>((res, rej) => { const r = http.get({ host: '127.0.0.1', port, path: path(i), agent }, (s) => { s.resume(); s.on('end', () => res()); }); r.on('error', rej); }); };
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
}
async function main() {
  const stack = await startStack();
  const pid = servingPid(stack.app);
  const which = process.argv[2];
  const paths: Record<string, (i: number) => string> = {
    ping8k: () => `/oauth2/ping?x=${rnd(8192)}`,
    front8k: () => `/oauth2/logout/frontchannel?sid=${rnd(8192)}`,
    frontShort: () => `/oauth2/logout/frontchannel?sid=${rnd(43)}`,
    pingShort: () => `/oauth2/ping?x=${rnd(43)}`,
  };
  await flood(stack.port, 500, paths[which]);
  for (let round = 0; round < 3; round++) {
    const before = rssBytes(pid);
    await flood(stack.port, 10000, paths[which]);
    console.log(which, round, mb(before), '→', mb(rssBytes(pid)));
  }
  await stack.close();
}
void main();
