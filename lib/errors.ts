/**
 * Errors that may reach a browser: a closed list with stable codes, statuses and the one sentence a
 * person sees (SPEC §7). Anything else becomes `internal`; IdP text is never shown.
 */
export const ERRORS = {
  bad_request: { status: 400, message: 'The request could not be understood.' },
  invalid_state: { status: 400, message: 'This sign-in link is not valid or was already used.' },
  login_expired: { status: 400, message: 'The sign-in took too long or was started in another browser.' },
  login_failed: { status: 400, message: 'Signing in did not work.' },
  unknown_provider: { status: 400, message: 'This sign-in option does not exist.' },
  access_denied: { status: 403, message: 'Signing in was cancelled or not allowed.' },
  /** SPEC §12: the IdP authenticated this person, the access rules do not admit them. */
  forbidden: { status: 403, message: 'Your account is not allowed to use this service.' },
  unauthenticated: { status: 401, message: 'You need to sign in to see this.' },
  not_found: { status: 404, message: 'There is nothing here.' },
  request_timeout: { status: 408, message: 'The request took too long to arrive.' },
  payload_too_large: { status: 413, message: 'The request is too large.' },
  rate_limited: { status: 429, message: 'Too many sign-in attempts in a short time. Wait a moment.' },
  internal: { status: 500, message: 'Something went wrong on our side.' },
  idp_unavailable: { status: 502, message: 'The sign-in service did not answer.' },
  upstream_unavailable: { status: 502, message: 'The service behind this page did not answer.' },
  store_unavailable: { status: 503, message: 'Sessions are unavailable right now.' },
  upstream_timeout: { status: 504, message: 'The service behind this page took too long to answer.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class GatehouseError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCode, options?: { cause?: unknown }) {
    super(ERRORS[code].message, options);
    this.name = 'GatehouseError';
    this.status = ERRORS[code].status;
  }
}

export const asGatehouseError = (error: unknown): GatehouseError =>
  error instanceof GatehouseError ? error : new GatehouseError('internal', { cause: error });
