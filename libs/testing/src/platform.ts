// Starts and stops the five Clearline services as child processes on Node 24 (the repo's pinned
// binary), waits until each reports ready, and stops them gracefully. Used by `npm start` and by
// the end-to-end tests, so both run the platform the same way.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from libs/testing/src or libs/testing/dist. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SERVICES = ['analytics', 'ledger', 'risk', 'payments', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];
export type ServicePorts = Record<ServiceName, number>;
export const DEFAULT_BASE_PORT = 3000;
const PORT_OFFSETS: ServicePorts = { gateway: 0, payments: 1, ledger: 2, risk: 3, analytics: 4 };
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export function portsFrom(basePort: number): ServicePorts {
  return Object.fromEntries(SERVICES.map((service) => [service, basePort + PORT_OFFSETS[service]])) as ServicePorts;
}

export interface PlatformOptions {
  basePort?: number;
  env?: Record<string, string>;
  logDirectory?: string;
  /** How long each service may take to report ready (default 60 s); a loaded machine boots five services slowly. */
  readyTimeoutMs?: number;
}

export interface RunningPlatform {
  ports: ServicePorts;
  processes: Map<ServiceName, ChildProcess>;
  logDirectory: string;
  stop(): Promise<void>;
  /** Sends `signal` to one service (SIGKILL: a crash, no shutdown hooks) and resolves once it has exited. */
  kill(service: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped or killed service again and resolves once it reports ready. */
  restart(service: ServiceName): Promise<void>;
}

export async function startPlatform(options: PlatformOptions = {}): Promise<RunningPlatform> {
  const ports = portsFrom(options.basePort ?? DEFAULT_BASE_PORT);
  const logDirectory = options.logDirectory ?? join(root, '.cache/logs');
  mkdirSync(logDirectory, { recursive: true });
  const processes = new Map<ServiceName, ChildProcess>();
  const launch = (service: ServiceName): ChildProcess => {
    const env = {
      ...process.env,
      ...options.env,
      PORT: String(ports[service]),
      ANALYTICS_URL: `http://127.0.0.1:${ports.analytics}`,
    };
    const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'apps', service, 'dist', 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(logDirectory, `${service}.log`), { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    processes.set(service, child);
    return child;
  };
  for (const service of SERVICES) launch(service);
  const platform: RunningPlatform = {
    ports,
    processes,
    logDirectory,
    stop: () => stopPlatform(processes),
    kill: async (service, signal = 'SIGKILL') => {
      const child = processes.get(service)!;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
    },
    restart: async (service) => {
      const running = processes.get(service)!;
      if (running.exitCode === null && running.signalCode === null) throw new Error(`${service} is still running; kill it first`);
      await waitUntilReady(service, ports[service], launch(service));
    },
  };
  try {
    await Promise.all(SERVICES.map((service) => waitUntilReady(service, ports[service], processes.get(service)!, options.readyTimeoutMs)));
  } catch (error) {
    await platform.stop();
    throw error;
  }
  return platform;
}

async function waitUntilReady(service: ServiceName, port: number, child: ChildProcess, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${service} exited with code ${child.exitCode} before it was ready (see its log)`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(3_000) });
      if (response.ok) return;
      lastProblem = await response.text();
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${service} was not ready on port ${port} within ${timeoutMs / 1000} s: ${lastProblem}`);
}

export async function stopPlatform(processes: Map<ServiceName, ChildProcess>): Promise<void> {
  await Promise.all([...processes.values()].map((child) => stopChild(child)));
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
