import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';

/** Where the API listens, and what it shows to browsers and trusts of proxies. */
export class HttpConfig {
  /** Interface to listen on. */
  @IsString()
  HOST = '0.0.0.0';

  /** Port to listen on; 0 picks a free one. */
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 4000;

  /** Trust X-Forwarded-For from a proxy in front (true, or a comma-separated list of proxy addresses). */
  @IsString()
  TRUST_PROXY = 'false';

  /** Comma-separated origins allowed by CORS; "*" for any. Default: any in development, none elsewhere. */
  @IsOptional()
  @IsString()
  CORS_ORIGINS: string | undefined = undefined;

  /** Apollo Sandbox on GET /graphql. Default: on, except in production. */
  @IsOptional()
  @IsBoolean()
  GRAPHQL_SANDBOX: boolean | undefined = undefined;

  /** Schema introspection. Default: on, except in production. */
  @IsOptional()
  @IsBoolean()
  GRAPHQL_INTROSPECTION: boolean | undefined = undefined;

  /** How queries and mutations run: graphql-jit's compiled functions (one per document), or graphql-js's interpreter. */
  @IsIn(['graphql-js', 'jit'])
  GRAPHQL_EXECUTOR: 'graphql-js' | 'jit' = 'jit';

  /** Milliseconds a client has to send a whole request (headers and body); slower ones get 408 and the connection closed. */
  @IsInt()
  @Min(100)
  HTTP_REQUEST_TIMEOUT_MS = 10000;

  /** Milliseconds a client has to send a request's headers (at most HTTP_REQUEST_TIMEOUT_MS); then 408. */
  @IsInt()
  @Min(100)
  HTTP_HEADERS_TIMEOUT_MS = 10000;

  /** Set, GET /metrics is served on this port (on METRICS_HOST) and not on the public one. 0 picks a free port. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT: number | undefined = undefined;

  /** Interface of the METRICS_PORT listener: keep it private (loopback, or the pod/VPC address Prometheus reaches). */
  @IsString()
  METRICS_HOST = '127.0.0.1';

  /** Set, /metrics answers only `Authorization: Bearer <token>` (at least 16 characters); in production it also lets the public port serve it. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN: string | undefined = undefined;
}

/** Node refuses a headers timeout longer than the request timeout. */
export function checkHttp(config: HttpConfig, problems: string[]): void {
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS (${config.HTTP_HEADERS_TIMEOUT_MS}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${config.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
}
