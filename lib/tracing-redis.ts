/**
 * A CLIENT span for every Redis command a traced request sends (SPEC §11). ioredis publishes each
 * command on the `ioredis:command` tracing channel of node:diagnostics_channel (no patching of the
 * client); nothing subscribes while tracing is off, and ioredis then skips the channel entirely.
 *
 * Commands outside a request (the `gatehouse_sessions_active` SCAN at each scrape, reconnects)
 * make no span: they would each start a trace of their own, many per minute, saying nothing.
 * The command's arguments are never read (lib/tracing-attributes.ts).
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { redisAttributes, redisSpanName, type RedisCommand } from './tracing-attributes';
import { activeContext, type Tracing } from './tracing-context';

type CommandMessage = RedisCommand & { error?: unknown };

/** Subscribes once per process (the channel is process-wide, whichever copy of lib/ asks). */
export function traceRedisCommands(tracing: Tracing): void {
  const spans = new WeakMap<object, Span>();
  const finish = (message: CommandMessage) => {
    const span = spans.get(message);
    if (!span) return;
    spans.delete(message);
    if (message.error !== undefined) {
      span.setAttribute('error.type', (message.error as Error | undefined)?.name ?? 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  diagnostics_channel.tracingChannel<unknown, CommandMessage>('ioredis:command').subscribe({
    start(message) {
      const parent = activeContext();
      if (!parent || !trace.getSpan(parent)) return;
      spans.set(message, tracing.tracer.startSpan(redisSpanName(message), { kind: SpanKind.CLIENT, attributes: redisAttributes(message) }, parent));
    },
    // Published right after the command was handed over; only a synchronous failure ends it here.
    end(message) {
      if (message.error !== undefined) finish(message);
    },
    asyncStart() {},
    asyncEnd: finish,
    error() {},
  });
}
