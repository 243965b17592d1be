// A hand-rolled WebSocket client over a raw socket for the upgrade suites: it writes the handshake
// exactly as given (bodies and framing headers a real client never sends included) and keeps every
// byte that comes back, so a test can count the 101s and read the server's frames.

import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface Frame {
  opcode: number;
  payload: Buffer;
}

export interface Exchange {
  /** Status of the first answer (0 if none arrived). */
  status: number;
  /** Every byte received, latin1. */
  text: string;
  /** How many `HTTP/1.1 101` status lines arrived (exactly one for a proper upgrade). */
  switches: number;
  /** Frames after the first 101 (unmasked server frames). */
  frames: Frame[];
}

/** Handshake header lines for `target`: Upgrade, Connection, version and a fresh key. */
export function handshake(target: string, host: string, extra: Array<[string, string]> = []): string {
  const lines = [`GET ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`];
  for (const [name, value] of extra) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function framesIn(buf: Buffer): Frame[] {
  const frames: Frame[] = [];
  while (buf.length >= 2) {
    let len = buf[1] & 0x7f;
    let at = 2;
    if (len === 126) [len, at] = [buf.readUInt16BE(2), 4];
    else if (len === 127) [len, at] = [Number(buf.readBigUInt64BE(2)), 10];
    if (buf.length < at + len) break;
    frames.push({ opcode: buf[0] & 0x0f, payload: buf.subarray(at, at + len) });
    buf = buf.subarray(at + len);
  }
  return frames;
}

/** Sends `request` and reads until the server closes (or sends a close frame, or `timeoutMs`). */
export function exchange(port: number, request: Buffer | string, timeoutMs = 5_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = buf.toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const head = text.indexOf('\r\n\r\n');
      const frames = status === 101 && head >= 0 ? framesIn(buf.subarray(head + 4)) : [];
      resolve({ status, text, switches: (text.match(/HTTP\/1\.1 101 /g) ?? []).length, frames });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const text = buf.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      if (head >= 0 && text.startsWith('HTTP/1.1 101') && framesIn(buf.subarray(head + 4)).some((f) => f.opcode === 0x8)) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
  });
}
