import { IsIn, IsInt, Min } from 'class-validator';

export type NodeEnv = 'development' | 'production' | 'test';

/** How the process runs and stops. */
export class ProcessConfig {
  /** development, production (Sandbox, introspection and detailed errors off; a strong JWT_SECRET required) or test. */
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: NodeEnv = 'development';

  /** Milliseconds requests in flight may take to finish on SIGTERM/SIGINT before connections close. */
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS = 10000;

  /** Milliseconds /readyz waits for each dependency before calling it not ready. */
  @IsInt()
  @Min(1)
  READINESS_TIMEOUT_MS = 2000;
}
