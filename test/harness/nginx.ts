// A real nginx (Debian's /usr/sbin/nginx) for the forward-auth suite: runs a config file as
// shipped in deploy/nginx/, with its marked addresses replaced, in the foreground under a
// temporary prefix (pid, logs and temp files there; no root needed for a high port).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { terminate, track } from './processes';
import { eventually } from './wait';

export const NGINX = '/usr/sbin/nginx';

export interface Nginx {
  url: string;
  port: number;
  /** The error log so far (for failure messages). */
  errorLog(): string;
  close(): Promise<void>;
}

/**
 * The shipped file with its three marked lines (`# gatehouse address`, `# app address`,
 * `# listen address`) pointed at this test's processes. Throws when a marker is missing, so the
 * example cannot drift away from what the test runs.
 */
export function templated(file: string, addresses: { gatehouse: string; app: string; listen: string }): string {
  let text = readFileSync(file, 'utf8');
  const replace = (marker: string, line: string) => {
    const pattern = new RegExp(`^(\\s*)\\S.*;(\\s*# ${marker})$`, 'm');
    if (!pattern.test(text)) throw new Error(`${file}: no line marked "# ${marker}"`);
    text = text.replace(pattern, `$1${line};$2`);
  };
  replace('gatehouse address', `server ${addresses.gatehouse}`);
  replace('app address', `server ${addresses.app}`);
  replace('listen address', `listen ${addresses.listen}`);
  return text;
}

export async function startNginx(serverConfig: string, port: number): Promise<Nginx> {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-nginx-'));
  writeFileSync(path.join(prefix, 'site.conf'), serverConfig);
  const errorLog = path.join(prefix, 'error.log');
  writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${errorLog} info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  include ${prefix}/site.conf;
}
`,
  );
  const child = spawn(NGINX, ['-p', prefix, '-e', errorLog, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  track(child);
  let output = '';
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  const readLog = () => {
    try {
      return readFileSync(errorLog, 'utf8');
    } catch {
      return '';
    }
  };
  let exited = false;
  child.on('exit', () => (exited = true));
  const accepting = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
  await eventually(`nginx to listen on ${port}`, 10_000, async () => {
    if (exited) throw new Error(`nginx exited: ${output}\n${readLog()}`);
    return accepting();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    errorLog: readLog,
    async close() {
      await terminate(child, 'SIGQUIT', 5_000);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
