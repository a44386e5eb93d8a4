import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/**
 * Preloaded into the groundwork server by `npm run bench -- --profile`
 * (`node -r dist/scripts/bench-profile-agent.js dist/src/main.js`): V8's
 * sampling CPU profiler through the in-process inspector, started and stopped
 * by the bench over the IPC channel, so each profile covers one scenario's
 * load and nothing of start-up. Messages: { profile: 'start' } answers
 * { profiling: true }; { profile: 'stop', file } writes the .cpuprofile and
 * answers { profiled: file }.
 */
// The --cpu-prof default: enough samples in a 10 s run, little overhead.
const SAMPLING_INTERVAL_US = 1000;
const session = new Session();
session.connect();

function post<T = unknown>(method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))),
  );
}

async function handle(message: { profile?: string; file?: string }): Promise<object | undefined> {
  if (message.profile === 'start') {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await post('Profiler.start');
    return { profiling: true };
  }
  if (message.profile === 'stop' && message.file) {
    const { profile } = await post<{ profile: object }>('Profiler.stop');
    writeFileSync(message.file, JSON.stringify(profile));
    return { profiled: message.file };
  }
  return undefined;
}

if (process.send) {
  process.on('message', (message: { profile?: string; file?: string }) => {
    handle(message).then(
      (reply) => reply && process.send?.(reply),
      (error: unknown) => process.send?.({ error: String(error) }),
    );
  });
  // The channel must not keep the server alive once it has shut down.
  process.channel?.unref();
}
