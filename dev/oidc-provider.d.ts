// Minimal ambient types for oidc-provider 9, which ships no TypeScript declarations (and
// @types/oidc-provider is not a dependency). Only what dev/idp.ts and dev/idp/ touch is typed; the rest
// stays `unknown` on purpose so a wrong guess fails to compile instead of silently passing.
declare module 'oidc-provider' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type UnknownObject = Record<string, unknown>;

  /** The parts of a Koa context (with oidc-provider's `ctx.oidc`) that the dev IdP reads. */
  export interface KoaContextWithOIDC {
    method: string;
    path: string;
    querystring: string;
    query: Record<string, string | string[] | undefined>;
    host: string;
    type: string;
    status: number;
    body: unknown;
    req: IncomingMessage & { body?: unknown };
    res: ServerResponse;
    request: { body?: unknown; length?: number };
    is(...types: string[]): string | false | null;
    get(field: string): string;
    set(field: string, value: string): void;
    oidc: OIDCContext;
  }

  export interface OIDCContext {
    provider: Provider;
    route?: string;
    params?: Record<string, unknown>;
    client?: Client;
    session: Session;
    result?: { consent?: { grantId?: string } } & UnknownObject;
    resourceServers?: Record<string, { scopes: Set<string> }>;
    readonly requestParamScopes: Set<string>;
    readonly requestParamOIDCScopes: Set<string>;
    readonly requestParamClaims: Set<string>;
    entities: {
      AuthorizationCode?: { accountId?: string; sid?: string };
      RefreshToken?: { accountId?: string; sid?: string };
      AccessToken?: { accountId?: string; sid?: string };
      Client?: Client;
    } & UnknownObject;
  }

  export interface Session {
    accountId?: string;
    grantIdFor(clientId: string): string | undefined;
  }

  export interface Client {
    clientId: string;
    backchannelLogout(sub: string, sid: string | undefined): Promise<void>;
    includeSid(): boolean;
  }

  export interface Grant {
    jti: string;
    accountId?: string;
    clientId?: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(indicator: string, scope: string): void;
    save(ttl?: number): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId?: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export interface ClientConstructor {
    find(id: string): Promise<Client | undefined>;
    prototype: Client;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string, claims: UnknownObject, rejected: string[]): Promise<UnknownObject> | UnknownObject;
  }

  export type Configuration = UnknownObject;

  export type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void> | void;

  export class Provider extends EventEmitter {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: GrantConstructor;
    readonly Client: ClientConstructor;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: Middleware): this;
    pathFor(name: string): string;
  }

  export const errors: Record<string, new (description?: string, detail?: string) => Error> & {
    InvalidTarget: new (description?: string, detail?: string) => Error;
  };

  export default Provider;
}
