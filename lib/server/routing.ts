/**
 * A request read once (SPEC §4): its path (raw and normalised), the ingress it came in through, the
 * part below the ingress path, the upstream route it belongs to, and its correlation id. Every
 * handler of the server works from this, never from `req.url` again.
 */
import type { IncomingMessage } from 'node:http';
import type { UpstreamRoute } from '../config';
import type { ErrorCode } from '../errors';
import type { Gatehouse } from '../gatehouse';
import { matchIngress, type IngressMatch } from '../http/ingress';
import { correlationId } from '../http/request-id';
import { dropSegments, readRequestPath, segmentCount, type RequestPath } from '../http/request-path';
import { isOAuth2Path } from '../routes';
import { matchUpstream } from '../upstream/plan';
import { oauth2Route } from './request-done';

export interface Routed {
  path: RequestPath;
  search: string;
  ingress: IngressMatch;
  /** Below the ingress path: still encoded, and decoded and normalised. */
  innerRaw: string;
  innerDecoded: string;
  /** The upstream route of a path that is not `/oauth2/*`, if one matches. */
  upstream: UpstreamRoute | null;
  requestId: string;
}

/** A request whose path or host could not be read: answered with `fail`, nothing else happens. */
export interface Unroutable {
  fail: Extract<ErrorCode, 'bad_request' | 'not_found'>;
  requestId: string;
}

/**
 * Next names its build assets at the origin root (`/_next/static/…`) whatever the ingress path:
 * its basePath is fixed at build time, INGRESS is read at run time. Those immutable public files
 * are served outside the ingress path too, as if requested at the root of the first ingress whose
 * host matches, so client components load under `INGRESS=https://host/app`.
 */
const NEXT_BUILD_ASSETS = '/_next/static/';

function assetIngress(ingresses: readonly URL[], decodedPath: string, host: string | undefined): IngressMatch | null {
  if (!decodedPath.startsWith(NEXT_BUILD_ASSETS)) return null;
  const index = Math.max(0, ingresses.findIndex((ingress) => ingress.host === host?.toLowerCase()));
  return { index, ingress: ingresses[index], basePath: '', innerPath: decodedPath };
}

export function routeRequest(gh: Gatehouse, req: IncomingMessage): Routed | Unroutable {
  const requestId = correlationId(req.headers['x-request-id'] as string | undefined);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = readRequestPath(q < 0 ? url : url.slice(0, q));
  if (!path) return { fail: 'bad_request', requestId };
  const underIngress = matchIngress(gh.config.ingresses, path.decoded, req.headers.host);
  const ingress = underIngress ?? assetIngress(gh.config.ingresses, path.decoded, req.headers.host);
  if (!ingress) return { fail: 'not_found', requestId };
  const innerDecoded = ingress.innerPath;
  return {
    path,
    search: q < 0 ? '' : url.slice(q),
    ingress,
    innerRaw: dropSegments(path.raw, segmentCount(ingress.basePath)),
    innerDecoded,
    // Gatehouse's own assets outside the ingress path are never an upstream's.
    upstream: !underIngress || isOAuth2Path(innerDecoded) ? null : matchUpstream(gh.config.upstreams, innerDecoded),
    requestId,
  };
}

/** The bounded `route` label of a request (lib/server/request-done.ts): never the raw path. */
export function routeLabel(r: Routed | Unroutable): string {
  if ('fail' in r) return 'invalid';
  if (isOAuth2Path(r.innerDecoded)) return oauth2Route(r.innerDecoded);
  return r.upstream?.prefix ?? 'app';
}
