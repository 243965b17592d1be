// A minimal RESP client for the harness: one connection per command, no retries, bounded by a
// timeout. Readiness polls and assertions must see a Redis server as it is, not as a client
// library's reconnect logic presents it.

import { Buffer } from 'node:buffer';
import net from 'node:net';
import tls from 'node:tls';

export type RespValue = string | number | null | RespValue[] | RespError;

export class RespError extends Error {
  override name = 'RespError';
}

/** Parses one RESP2 value from `buf` at `at`; undefined when more bytes are needed. */
function parseResp(buf: Buffer, at: number): { value: RespValue; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RespError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new RespError(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/** How to reach a server that wants a password (`requirepass` or an ACL user) or speaks TLS only. */
export interface RespAccess {
  username?: string;
  password?: string;
  /** PEM of the CA that signed the server's certificate: connect with TLS and verify against it. */
  ca?: string;
}

const encode = (args: Array<string | number>) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;

/** Sends one command to `host:port` and resolves with its reply (a `RespError` for `-ERR…`).
 *  Rejects on connection failure or when no full reply arrives within `timeoutMs`. With
 *  `access.password` an AUTH goes first in the same write; its error, if any, is the reply. */
export function redisCommand(port: number, args: Array<string | number>, timeoutMs = 1_000, host = '127.0.0.1', access: RespAccess = {}): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const auth = access.password === undefined ? [] : [access.username ? ['AUTH', access.username, access.password] : ['AUTH', access.password]];
    const secure = access.ca !== undefined;
    const socket = secure ? tls.connect({ host, port, ca: access.ca }) : net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (fn: () => void) => {
      socket.destroy();
      fn();
    };
    socket.setTimeout(timeoutMs, () => done(() => reject(new Error(`${host}:${port} ${args[0]}: no reply within ${timeoutMs} ms`))));
    socket.on('error', (err) => done(() => reject(err)));
    socket.on(secure ? 'secureConnect' : 'connect', () => {
      socket.write([...auth, args].map(encode).join(''));
    });
    let pending = auth.length; // replies to skip: the AUTH's, unless it failed
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        for (let parsed = parseResp(buf, 0); parsed; parsed = parseResp(buf, 0)) {
          buf = buf.subarray(parsed.end);
          const value = parsed.value;
          if (pending > 0 && !(value instanceof RespError)) {
            pending--;
            continue;
          }
          done(() => resolve(value));
          return;
        }
      } catch (err) {
        done(() => reject(err));
      }
    });
  });
}

/** `INFO`-style "key:value" lines as an object. */
export function infoFields(text: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof text !== 'string') return out;
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
