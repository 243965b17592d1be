// Throwaway TLS material for redis-server tests: a private CA and a server certificate it signed
// for 127.0.0.1 and localhost, made with `openssl` in a temp dir when a test starts. No key is
// ever committed; close() deletes them. Debian's redis-server is built with TLS (it links libssl),
// so `--tls-port` works with these files.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TlsFiles {
  dir: string;
  /** The CA certificate (PEM file): what REDIS_CA_FILE points at. */
  caFile: string;
  /** Its PEM text, for the harness's own clients. */
  ca: string;
  certFile: string;
  keyFile: string;
  /** Deletes the directory with the keys. */
  close(): void;
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  if (result.error) throw new Error(`cannot run openssl: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed (status ${result.status}):\n${result.stderr}`);
}

/** A CA named `caName` and a server certificate for 127.0.0.1/localhost signed by it (P-256 keys: fast). */
export function makeTlsFiles(caName = 'gatehouse test CA'): TlsFiles {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-tls-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${caName}`]);
    openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    // Clients check the address they dialled (127.0.0.1, what Sentinel and Cluster announce) against the SAN.
    writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const caFile = path.join(dir, 'ca.pem');
  return {
    dir,
    caFile,
    ca: readFileSync(caFile, 'utf8'),
    certFile: path.join(dir, 'server.pem'),
    keyFile: path.join(dir, 'server.key'),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * redis-server arguments to listen on `port` with TLS only (no plain port), without asking clients
 * for certificates. The same files serve replication and the cluster bus, where a node is the client.
 */
export function tlsListenArgs(port: number, tls: TlsFiles): string[] {
  return [
    '--port', '0',
    '--tls-port', String(port),
    '--tls-cert-file', tls.certFile,
    '--tls-key-file', tls.keyFile,
    '--tls-ca-cert-file', tls.caFile,
    '--tls-auth-clients', 'no',
  ];
}
