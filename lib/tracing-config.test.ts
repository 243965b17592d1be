// When traces are exported and where to (lib/tracing-config.ts), from the standard OTEL_*
// variables: the switch, the OTLP/HTTP endpoint rule, and the values that stop the start.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from './config';
import { redactedTracing, tracingConfig } from './tracing-config';

function parse(env: Record<string, string>) {
  const problems: string[] = [];
  const config = tracingConfig(env, problems);
  return { config, problems, endpoint: config?.tracesEndpoint.href };
}

describe('tracingConfig', () => {
  test('off without an endpoint, whatever else is set', () => {
    assert.deepEqual(parse({}), { config: null, problems: [], endpoint: undefined });
    assert.equal(parse({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on', OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }).config, null);
  });

  test('the general endpoint gets /v1/traces appended; the traces endpoint is used as given and wins', () => {
    const rows: Array<[Record<string, string>, string]> = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'http://collector:4318/v1/traces'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'http://collector:4318/v1/traces'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/ingest/' }, 'https://otel.example/ingest/v1/traces'],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/custom' }, 'https://otel.example/custom'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/t' }, 'http://b:4318/t'],
    ];
    for (const [env, expected] of rows) assert.equal(parse(env).endpoint, expected, JSON.stringify(env));
  });

  test('OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn it off', () => {
    assert.equal(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).config, null);
    assert.equal(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).config, null);
    assert.ok(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }).config);
  });

  test('values a typo would turn into a silent default are problems naming their variable', () => {
    const rows: Array<[Record<string, string>, RegExp]> = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /^OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" is not an http\(s\) URL/],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://c:4317' }, /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: /],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /^OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }, /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: /],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'parentbased_always' }, /^OTEL_TRACES_SAMPLER: "parentbased_always" is not one of/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '10%' }, /^OTEL_TRACES_SAMPLER_ARG: "10%" is not a ratio/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'jaeger' }, /^OTEL_TRACES_EXPORTER: "jaeger" is not supported/],
    ];
    for (const [env, expected] of rows) {
      const { problems } = parse(env);
      assert.equal(problems.length, 1, JSON.stringify({ env, problems }));
      assert.match(problems[0], expected);
    }
    assert.deepEqual(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).problems, []);
  });

  test('the startup line shows the endpoint without userinfo or query', () => {
    const { config } = parse({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://user:key@otel.example/v1/traces?api_key=secret' });
    assert.deepEqual(redactedTracing(config!), { tracesEndpoint: 'https://otel.example/v1/traces' });
  });

  test('through loadConfig: on with an endpoint, and a bad value stops the start naming it', () => {
    assert.equal(loadConfig({}).tracing, null);
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing?.tracesEndpoint.href, 'http://127.0.0.1:4318/v1/traces');
    assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'nope' }), (error: unknown) => error instanceof ConfigError && error.problems.some((p) => p.startsWith('OTEL_EXPORTER_OTLP_ENDPOINT:')));
  });
});
