import { IsInt, Min } from 'class-validator';

/** What one request may ask of the API, checked before any resolver runs (QUERY_TOO_COMPLEX naming the limit, or RATE_LIMITED). */
export class LimitsConfig {
  /** Depth of nested fields (introspection is exempt). */
  @IsInt()
  @Min(1)
  GRAPHQL_MAX_DEPTH = 15;

  /** Aliased fields per operation (__typename is free). */
  @IsInt()
  @Min(0)
  GRAPHQL_MAX_ALIASES = 15;

  /** Directives per operation. */
  @IsInt()
  @Min(0)
  GRAPHQL_MAX_DIRECTIVES = 50;

  /** Lexical tokens per document: the parser stops there. */
  @IsInt()
  @Min(10)
  GRAPHQL_MAX_TOKENS = 2000;

  /** Nodes a query could touch: a connection multiplies what it selects by `first`. */
  @IsInt()
  @Min(1)
  GRAPHQL_MAX_COST = 50000;

  /** Cost points (see GRAPHQL_MAX_COST) a signed-in user may spend per minute; past it, RATE_LIMITED. */
  @IsInt()
  @Min(1)
  API_BUDGET_PER_USER_PER_MINUTE = 200000;

  /** Cost points one client address may spend per minute, signed in or not. */
  @IsInt()
  @Min(1)
  API_BUDGET_PER_IP_PER_MINUTE = 500000;

  /** Request bodies above this many bytes get 413. */
  @IsInt()
  @Min(1024)
  HTTP_BODY_LIMIT_BYTES = 1048576;
}
