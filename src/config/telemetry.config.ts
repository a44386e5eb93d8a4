import { IsOptional, IsString, Matches, MinLength } from 'class-validator';

/** Distributed traces (OpenTelemetry, OTLP over HTTP); off unless an endpoint is set. */
export class TelemetryConfig {
  /** http://jaeger:4318: where spans go (OTLP/HTTP, JSON; `/v1/traces` is appended). Unset, tracing is off at no cost. */
  @IsOptional()
  @Matches(/^https?:\/\/[^/]+/, { message: '$property must be an http(s) URL, such as http://localhost:4318' })
  OTEL_EXPORTER_OTLP_ENDPOINT: string | undefined = undefined;

  /** The service name spans are reported under (`service.name`); give the API and worker roles their own. */
  @IsString()
  @MinLength(1)
  OTEL_SERVICE_NAME = 'groundwork';
}
