/**
 * Structured logs through pino (SPEC §7, §11): one JSON line per event on stdout with `time` (ISO
 * 8601), `level` as a word, `msg`, the request's `correlation_id` (taken from the request context,
 * see `withCorrelationId`) and the caller's fields, secrets redacted at any depth and errors with
 * type, message, stack and cause (lib/log-redact.ts). `LOG_FORMAT=text` writes the same lines
 * through pino-pretty for a terminal.
 *
 * Never pass tokens, cookies or secrets as fields; redaction is the last line of defence.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { format, stripVTControlCharacters } from 'node:util';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogFormat, LogLevel } from './config';
import { redactFields } from './log-redact';
import { processWide } from './process-wide';
import { traceIds } from './tracing-context';

export type LogFields = Record<string, unknown>;

/** The request being served, so every log line of it carries its correlation id (SPEC §7). */
const currentRequest = processWide('log.request', () => new AsyncLocalStorage<string>());

export const withCorrelationId = <T>(correlationId: string, run: () => T): T => currentRequest.run(correlationId, run);

/** Turns one JSON line into a readable one (pino-pretty's `prettyFactory`). */
type Prettifier = (line: string) => string;
/** Loads pino-pretty; throws when it is not installed (production installs omit devDependencies). */
export type PrettyLoader = () => Prettifier;

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go: stdout unless a test captures them. */
  destination?: DestinationStream;
  /** How `text` finds pino-pretty: from node_modules unless a test says otherwise. */
  loadPretty?: PrettyLoader;
}

const loadPrettyFromNodeModules: PrettyLoader = () => {
  // Resolved at run time from this file's place (dist/server.js or the source), and only for
  // `text`: pino-pretty is a devDependency and must not be needed by a production install.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return prettyFactory({ colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', singleLine: true });
};

/**
 * A logger writing Gatehouse's line shape. With `format: 'text'` and no pino-pretty to be had, it
 * writes JSON and says so once (the line format is cosmetic; a missing devDependency must not stop
 * a production server).
 */
export function createLogger(options: LoggerOptions): Logger {
  const out = options.destination ?? process.stdout;
  let destination = out;
  let prettyMissing: Error | undefined;
  if (options.format === 'text') {
    try {
      const prettify = (options.loadPretty ?? loadPrettyFromNodeModules)();
      // pino-pretty's own stream is asynchronous and would lose the last lines at process.exit;
      // formatting each line as it is written keeps stdout as synchronous as the JSON lines.
      destination = { write: (line: string) => out.write(prettify(line)) };
    } catch (error) {
      prettyMissing = error as Error;
    }
  }
  const logger = pino(
    {
      level: options.level,
      base: null, // no pid and hostname: the platform labels each stream with its pod or container
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Runs only for lines that are written, after pino's level check.
        log: (fields) => redactFields(fields),
      },
      mixin: () => {
        const correlationId = currentRequest.getStore();
        // trace_id and span_id of the request's server span, while tracing is on (lib/tracing-context.ts).
        const ids = traceIds();
        return correlationId ? { correlation_id: correlationId, ...ids } : { ...ids };
      },
    },
    destination,
  );
  if (prettyMissing) logger.warn({ error: prettyMissing }, 'LOG_FORMAT=text needs pino-pretty (a devDependency, not installed here): writing JSON lines');
  return logger;
}

/**
 * The process's one logger, whichever copy of this module asks: the compiled server, proxy.ts and
 * the route handlers each load their own copy of lib/ (lib/process-wide.ts), and LOG_LEVEL and
 * LOG_FORMAT must reach all of them. JSON at `info` until the config is applied.
 */
const state = processWide('log.pino', () => ({ format: 'json' as LogFormat, logger: createLogger({ level: 'info', format: 'json' }), consoleRouted: false }));

export function setLogLevel(level: LogLevel) {
  state.logger.level = level;
}

/** Applied once at startup (lib/gatehouse.ts); a change of format builds a new logger. */
export function setLogFormat(format: LogFormat) {
  if (format === state.format) return;
  state.format = format;
  state.logger = createLogger({ level: state.logger.level as LogLevel, format });
}

/**
 * Level check first: a line that is not written costs that check and nothing else (no mixin, no
 * redaction, no JSON). `msg` goes in as the first field, so it stands before the fields in the
 * line (pino would put it last), where a person reading `kubectl logs` looks for it.
 */
function write(level: LogLevel, msg: string, fields: LogFields | undefined) {
  const logger = state.logger;
  if (!logger.isLevelEnabled(level)) return;
  if (!fields) return logger[level]({ msg });
  const line: LogFields = { msg, ...fields };
  line.msg = msg; // a field named msg does not replace the message
  logger[level](line);
}

export const log = {
  debug: (msg: string, fields?: LogFields) => write('debug', msg, fields),
  info: (msg: string, fields?: LogFields) => write('info', msg, fields),
  warn: (msg: string, fields?: LogFields) => write('warn', msg, fields),
  error: (msg: string, fields?: LogFields) => write('error', msg, fields),
};

const CONSOLE_LEVELS = { debug: 'debug', trace: 'debug', log: 'info', info: 'info', warn: 'warn', error: 'error' } as const;

/**
 * Next.js (and any library) writes with `console.*`: those calls become log lines too, so stdout
 * carries nothing but log lines (`source: "console"`), at the level the method implies, with an
 * Error argument written as `error` (type, message, stack, cause; redacted like any field).
 * Called once by the server at startup; `console` is one object per process.
 */
export function routeConsoleToLog() {
  if (state.consoleRouted) return;
  state.consoleRouted = true;
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args: unknown[]) => {
      if (!state.logger.isLevelEnabled(level)) return;
      const error = args.find((arg) => arg instanceof Error);
      const text = stripVTControlCharacters(format(...(error ? args.filter((arg) => arg !== error) : args))).trim();
      write(level, text || (error as Error | undefined)?.message || '', error ? { source: 'console', error } : { source: 'console' });
    };
  }
}
