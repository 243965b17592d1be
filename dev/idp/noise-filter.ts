// Loads oidc-provider behind a console filter. oidc-provider prints "Unsupported runtime" on Node 20
// (it wants 22+, but works), plus quick-start warnings we chose deliberately (devInteractions, memory
// adapter) and a NOTICE for every default helper it calls. They drown test output, so we drop exactly
// those lines. Set IDP_VERBOSE=1 to see them.

const NOISE = [
  /Unsupported runtime/,
  /devInteractions is enabled/,
  /in-memory adapter is used/,
  /development-only signing keys/,
  /already parsed request body detected/,
  /oidc-provider NOTICE: /,
];

let noiseFilterInstalled = false;
function installNoiseFilter(): void {
  if (noiseFilterInstalled || process.env.IDP_VERBOSE === '1') return;
  noiseFilterInstalled = true;
  for (const level of ['warn', 'info'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      const first = args[0];
      if (typeof first === 'string' && first.includes('oidc-provider ') && NOISE.some((re) => re.test(first))) {
        return;
      }
      original(...args);
    };
  }
}

let providerModule: Promise<typeof import('oidc-provider')> | undefined;

/** oidc-provider, imported once per process. Its "Unsupported runtime" warning fires while its module
 *  is evaluated, so it must be imported dynamically, after the filter is in place. */
export function loadOidcProvider(): Promise<typeof import('oidc-provider')> {
  installNoiseFilter();
  providerModule ??= import('oidc-provider');
  return providerModule;
}
