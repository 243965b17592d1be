import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Compression buffers streamed responses (server-sent events would arrive all at once), and a
  // reverse proxy in front usually compresses anyway.
  compress: false,
  poweredByHeader: false,
  // The dev identity provider and the test harness live outside the app; keep them out of tracing.
  outputFileTracingExcludes: { '*': ['dev/**', 'test/**', 'e2e/**', 'bench/**'] },
};

export default nextConfig;
