/**
 * Structured logs: one JSON line per event on stdout, each with the request's `correlation_id`
 * (SPEC §7). Never pass tokens, cookies or secrets as fields; `redact` is a last line of defence.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogLevel } from './config';
import { processWide } from './process-wide';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /token|secret|cookie|password|authorization|code_verifier/i;

/** Shared by every copy of this module in the process (lib/process-wide.ts). */
const state = processWide('log.state', () => ({ threshold: LEVELS.info }));

export function setLogLevel(level: LogLevel) {
  state.threshold = LEVELS[level];
}

export type LogFields = Record<string, unknown>;

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) out[key] = { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
    else out[key] = SECRET_FIELD.test(key) ? '[redacted]' : value;
  }
  return out;
}

/** The request being served, so every log line of it carries its correlation id (SPEC §7). */
const currentRequest = processWide('log.request', () => new AsyncLocalStorage<string>());

export const withCorrelationId = <T>(correlationId: string, run: () => T): T => currentRequest.run(correlationId, run);

function write(level: LogLevel, msg: string, fields: LogFields) {
  if (LEVELS[level] < state.threshold) return;
  const correlation_id = currentRequest.getStore();
  const line = { time: new Date().toISOString(), level, msg, ...(correlation_id ? { correlation_id } : {}), ...redact(fields) };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export const log = {
  debug: (msg: string, fields: LogFields = {}) => write('debug', msg, fields),
  info: (msg: string, fields: LogFields = {}) => write('info', msg, fields),
  warn: (msg: string, fields: LogFields = {}) => write('warn', msg, fields),
  error: (msg: string, fields: LogFields = {}) => write('error', msg, fields),
};
