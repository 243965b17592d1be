import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Lets several builds coexist (parallel test runs, the benchmark); the default is Next's own.
  distDir: process.env.NEXT_DIST_DIR || '.next',
  // Compression buffers streamed responses (server-sent events would arrive all at once), and a
  // reverse proxy in front usually compresses anyway.
  compress: false,
  poweredByHeader: false,
  // Next clones request bodies for proxy.ts up to this size; Gatehouse refuses larger ones first
  // (lib/server/next-body.ts). Keep the two equal: NEXT_MAX_BODY_BYTES in lib/server/next-app.ts.
  experimental: { proxyClientMaxBodySize: '1mb' },
  // The build checks the app's own code; `npm run typecheck` checks everything, tests included.
  typescript: { tsconfigPath: 'tsconfig.build.json' },
  // One copy of each in the process: the server and the Next bundles share a session runtime on
  // globalThis, and openid-client checks that its Configuration is an instance of its own class.
  // The OpenTelemetry packages too: the route handlers' IdP spans go to the server's tracer, and
  // the SDK, loaded only when tracing is on (lib/tracing.ts), must never be bundled.
  serverExternalPackages: ['openid-client', 'oauth4webapi', 'jose', 'ioredis', 'iron-session', 'prom-client', 'pino', '@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources'],
  // The dev identity provider and the test harness live outside the app; keep them out of tracing.
  outputFileTracingExcludes: { '*': ['dev/**', 'test/**', 'e2e/**', 'bench/**'] },
};

export default nextConfig;
