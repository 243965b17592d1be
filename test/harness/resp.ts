// A minimal RESP client for the harness: one connection per command, no retries, bounded by a
// timeout. Readiness polls and assertions must see a Redis server as it is, not as a client
// library's reconnect logic presents it.

import { Buffer } from 'node:buffer';
import net from 'node:net';

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

/** Sends one command to `host:port` and resolves with its reply (a `RespError` for `-ERR…`).
 *  Rejects on connection failure or when no full reply arrives within `timeoutMs`. */
export function redisCommand(port: number, args: Array<string | number>, timeoutMs = 1_000, host = '127.0.0.1'): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (fn: () => void) => {
      socket.destroy();
      fn();
    };
    socket.setTimeout(timeoutMs, () => done(() => reject(new Error(`${host}:${port} ${args[0]}: no reply within ${timeoutMs} ms`))));
    socket.on('error', (err) => done(() => reject(err)));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const parsed = parseResp(buf, 0);
        if (parsed) done(() => resolve(parsed.value));
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
