// The logger (lib/log.ts) as pino writes it, captured through a destination stream: the line
// shape, the correlation id from the request context, errors, levels (nothing done for a line
// that is not written), LOG_FORMAT=text with and without pino-pretty, and the exported `log`.

import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { createLogger, log, routeConsoleToLog, setLogFormat, setLogLevel, withCorrelationId, type LoggerOptions } from './log';

/** A logger whose lines land in `lines` (one string per write). */
function capture(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', format: 'json', ...options, destination: { write: (s: string) => void lines.push(s) } });
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** A field that counts how often it is read: a line that is not written must not read it. */
function watched() {
  const reads = { count: 0 };
  const fields = {
    get payload() {
      reads.count += 1;
      return 'x';
    },
  };
  return { reads, fields };
}

describe('logger', () => {
  test('one JSON line per event: time in ISO 8601, level as a word, msg, the fields; no pid or hostname', () => {
    const { logger, lines, json } = capture();
    logger.info({ route: '/api', status: 200 }, 'request');
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n') && !lines[0].slice(0, -1).includes('\n'), 'exactly one line');
    const [line] = json();
    assert.equal(line.level, 'info');
    assert.equal(line.msg, 'request');
    assert.equal(new Date(String(line.time)).toISOString(), line.time);
    assert.deepEqual({ route: line.route, status: line.status }, { route: '/api', status: 200 });
    assert.deepEqual(Object.keys(line).sort(), ['level', 'msg', 'route', 'status', 'time']);
  });

  test('every level is written as its word', () => {
    const { logger, json } = capture({ level: 'debug' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(json().map((l) => l.level), ['debug', 'info', 'warn', 'error']);
  });

  test('correlation_id comes from the request context, across awaits and timers, and only inside it', async () => {
    const { logger, json } = capture();
    logger.info('before');
    await withCorrelationId('req-1', async () => {
      logger.info('start');
      await nextTurn();
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.info('after awaits');
      await withCorrelationId('req-2', async () => logger.info('inner request'));
      logger.info('back');
    });
    logger.info('outside');
    assert.deepEqual(json().map((l) => [l.msg, l.correlation_id]), [
      ['before', undefined],
      ['start', 'req-1'],
      ['after awaits', 'req-1'],
      ['inner request', 'req-2'],
      ['back', 'req-1'],
      ['outside', undefined],
    ]);
  });

  test('errors at any key: type, message, stack and cause; secrets redacted in the same line', () => {
    const { logger, lines, json } = capture();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    logger.warn({ error: new Error('upstream request failed', { cause: refused }), headers: { cookie: 'gatehouse.session=SEALED' } }, 'failed');
    const { error, headers } = json()[0] as { error: Record<string, any>; headers: Record<string, string> };
    assert.equal(error.type, 'Error');
    assert.equal(error.message, 'upstream request failed');
    assert.match(error.stack, /^Error: upstream request failed\n\s+at .*log\.test\.ts/);
    assert.deepEqual([error.cause.type, error.cause.message, error.cause.code], ['Error', 'connect ECONNREFUSED', 'ECONNREFUSED']);
    assert.equal(headers.cookie, '[redacted]');
    assert.ok(!lines[0].includes('SEALED'));
  });

  test('below the threshold nothing is written and nothing is computed; the threshold can change', () => {
    const { logger, lines } = capture({ level: 'warn' });
    const { reads, fields } = watched();
    logger.info(fields, 'quiet');
    logger.debug(fields, 'quiet');
    assert.deepEqual([lines.length, reads.count], [0, 0]);
    logger.level = 'debug';
    logger.debug(fields, 'now written');
    assert.deepEqual([lines.length, reads.count], [1, 1]);
  });

  test('LOG_FORMAT=text: readable lines, not JSON, with the level, message, correlation id and fields', () => {
    const { logger, lines } = capture({ format: 'text' });
    withCorrelationId('req-7', () => logger.info({ route: '/api', authorization: 'Bearer SECRET' }, 'request'));
    assert.equal(lines.length, 1);
    assert.throws(() => JSON.parse(lines[0]));
    assert.match(lines[0], /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: request/);
    for (const part of ['req-7', '/api', '[redacted]']) assert.ok(lines[0].includes(part), `${part} missing from ${lines[0]}`);
    assert.ok(!lines[0].includes('SECRET'));
  });

  test('LOG_FORMAT=text without pino-pretty installed: JSON lines, after exactly one warning that says why', () => {
    const missing = Object.assign(new Error("Cannot find module 'pino-pretty'"), { code: 'MODULE_NOT_FOUND' });
    const { logger, json } = capture({
      format: 'text',
      loadPretty: () => {
        throw missing;
      },
    });
    logger.info('listening');
    logger.info('again');
    const lines = json();
    assert.deepEqual(lines.map((l) => [l.level, l.msg]).slice(1), [['info', 'listening'], ['info', 'again']]);
    assert.equal(lines[0].level, 'warn');
    assert.match(String(lines[0].msg), /LOG_FORMAT=text.*pino-pretty/);
    assert.equal((lines[0].error as { code: string }).code, 'MODULE_NOT_FOUND');
  });
});

describe('the exported log (process-wide logger on stdout)', () => {
  /** Runs `fn` with stdout captured; synchronous, so nothing else writes meanwhile. */
  function stdoutOf(fn: () => void): string[] {
    const written: string[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      fn();
    } finally {
      process.stdout.write = original;
    }
    return written.join('').split('\n').filter(Boolean);
  }

  test('log.info(msg, fields): msg before the fields, a field named msg does not replace it', () => {
    const [line] = stdoutOf(() => withCorrelationId('req-9', () => log.info('login completed', { store: 'redis', msg: 'not me' })));
    assert.match(line, /^\{"level":"info","time":"[^"]+","correlation_id":"req-9","msg":"login completed","store":"redis"\}$/);
  });

  test('setLogLevel applies at once; a line below it reads none of its fields', () => {
    const { reads, fields } = watched();
    try {
      setLogLevel('error');
      assert.deepEqual(stdoutOf(() => log.warn('hidden', fields)), []);
      assert.equal(reads.count, 0);
      setLogLevel('debug');
      assert.equal(stdoutOf(() => log.debug('shown', fields)).length, 1);
      assert.equal(reads.count, 1);
    } finally {
      setLogLevel('info');
    }
  });

  test('setLogFormat switches the process-wide logger, keeping the level', () => {
    try {
      setLogLevel('debug');
      setLogFormat('text');
      const [line] = stdoutOf(() => log.debug('readable'));
      assert.match(line, /DEBUG: readable/);
    } finally {
      setLogFormat('json');
      setLogLevel('info');
    }
    assert.equal(JSON.parse(stdoutOf(() => log.info('json again'))[0]).msg, 'json again');
  });

  test('routeConsoleToLog: console.* (Next.js, libraries) becomes log lines at the matching level, errors serialised', () => {
    const saved = { ...console };
    let lines: string[];
    try {
      routeConsoleToLog();
      lines = stdoutOf(() => {
        console.log('\u001b[32m✓\u001b[39m Ready in %dms', 42);
        console.warn('careful');
        console.error('uncaughtException: ', new TypeError('boom', { cause: new Error('deeper') }));
        console.debug('below the threshold');
      });
    } finally {
      Object.assign(console, saved);
    }
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, any>);
    assert.deepEqual(parsed.map((l) => [l.level, l.msg, l.source]), [
      ['info', '✓ Ready in 42ms', 'console'],
      ['warn', 'careful', 'console'],
      ['error', 'uncaughtException:', 'console'],
    ]);
    assert.deepEqual([parsed[2].error.type, parsed[2].error.message, parsed[2].error.cause.message], ['TypeError', 'boom', 'deeper']);
    assert.match(parsed[2].error.stack, /^TypeError: boom\n\s+at /);
  });

  test('one state for every copy of the module: a level set through one copy reaches another', async () => {
    // A second copy, as Next's bundles load one (a distinct module URL is a distinct instance).
    const copy = (await import(`./log.ts?copy=${Date.now()}`)) as typeof import('./log');
    assert.notEqual(copy.log, log);
    try {
      copy.setLogLevel('error');
      assert.deepEqual(stdoutOf(() => log.warn('hidden')), []);
    } finally {
      setLogLevel('info');
    }
    assert.equal(stdoutOf(() => copy.log.info('shown')).length, 1);
  });
});
