import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

/** Where the API listens, and what it shows to browsers and trusts of proxies. */
export class HttpConfig {
  /** Interface to listen on. */
  @IsString()
  HOST = '0.0.0.0';

  /** Port to listen on; 0 picks a free one. */
  @IsInt() @Min(0) @Max(65535)
  PORT = 4000;

  /** Trust X-Forwarded-For from a proxy in front (true, or a comma-separated list of proxy addresses). */
  @IsString()
  TRUST_PROXY = 'false';

  /** Comma-separated origins allowed by CORS; "*" for any. Default: any in development, none elsewhere. */
  @IsOptional() @IsString()
  CORS_ORIGINS: string | undefined = undefined;

  /** Apollo Sandbox on GET /graphql. Default: on, except in production. */
  @IsOptional() @IsBoolean()
  GRAPHQL_SANDBOX: boolean | undefined = undefined;

  /** Schema introspection. Default: on, except in production. */
  @IsOptional() @IsBoolean()
  GRAPHQL_INTROSPECTION: boolean | undefined = undefined;

  /** Set, GET /metrics is served on this port (on HOST) instead of the public one. 0 picks a free port. */
  @IsOptional() @IsInt() @Min(0) @Max(65535)
  METRICS_PORT: number | undefined = undefined;
}
