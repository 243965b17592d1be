/**
 * Every HTTP call Gatehouse makes to the identity provider goes through this fetch (openid-client's
 * and jose's `customFetch`), which times it into `gatehouse_idp_request_duration_seconds` by
 * operation and outcome. The time runs until the answer's headers arrive; reading the (small) JSON
 * body is not in it. A call whose URL is none of the IdP's endpoints is passed on unrecorded.
 */
import { metrics, type IdpOperation, type IdpOutcome } from '../metrics';
import { traceIdpCall } from '../tracing-spans';

export type IdpFetch = (url: string, options: RequestInit) => Promise<Response>;

/** Which operation a request is, from its URL and body (null: not one Gatehouse names). */
export type OperationOf = (url: string, body: unknown) => IdpOperation | null;

const outcomeOfStatus = (status: number): IdpOutcome => (status >= 200 && status < 300 ? 'ok' : status >= 400 && status < 500 ? 'rejected' : 'error');

/** openid-client and jose bound each call with an AbortSignal.timeout; anything else is the network. */
function outcomeOfError(error: unknown): IdpOutcome {
  const name = (error as Error | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'unreachable';
}

export function timedIdpFetch(operationOf: OperationOf): IdpFetch {
  return async (url, options) => {
    const operation = operationOf(url, options.body);
    if (!operation) return fetch(url, options);
    const started = performance.now();
    const span = traceIdpCall(operation, url, options); // a span, and traceparent on the request, while tracing is on
    const observe = (outcome: IdpOutcome, status?: number) => {
      metrics.idpRequestDuration.observe({ operation, outcome }, (performance.now() - started) / 1000);
      span.end(outcome, status);
    };
    let response: Response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      observe(outcomeOfError(error));
      throw error;
    }
    observe(outcomeOfStatus(response.status), response.status);
    return response;
  };
}

/** Origin and path: the form the endpoints are compared in. */
const endpointKey = (url: string | URL) => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
};

function grantType(body: unknown): string | null {
  if (body instanceof URLSearchParams) return body.get('grant_type');
  return typeof body === 'string' ? new URLSearchParams(body).get('grant_type') : null;
}

/** The operations of the endpoints in a discovery document; the token endpoint by grant type. */
export function operationsOf(metadata: Record<string, unknown>): OperationOf {
  const endpoints = new Map<string, IdpOperation>();
  const add = (field: string, operation: IdpOperation) => {
    if (typeof metadata[field] === 'string') endpoints.set(endpointKey(metadata[field]), operation);
  };
  add('jwks_uri', 'jwks');
  add('pushed_authorization_request_endpoint', 'par');
  add('end_session_endpoint', 'end-session');
  const tokenEndpoint = typeof metadata.token_endpoint === 'string' ? endpointKey(metadata.token_endpoint) : null;
  return (url, body) => {
    if (url.includes('/.well-known/')) return 'discovery';
    const key = endpointKey(url);
    if (key === tokenEndpoint) return grantType(body) === 'refresh_token' ? 'refresh' : 'token';
    return endpoints.get(key) ?? null;
  };
}

/** A fetch that records every call as one operation (discovery, the logout token's JWKS). */
export const timedAs = (operation: IdpOperation) => timedIdpFetch(() => operation);
