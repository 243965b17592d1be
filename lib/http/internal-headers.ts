/**
 * Request headers the Gatehouse server sets for the Next app behind it. The server removes any
 * client-sent value first, so they can be trusted; they never reach an upstream.
 */
/** Index of the configured ingress the request came through (its path prefix was removed). */
export const INGRESS_HEADER = 'x-gatehouse-ingress';
/** The correlation id chosen for the request. */
export const REQUEST_ID_HEADER = 'x-request-id';
