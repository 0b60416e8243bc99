/** The --backend option every compute command takes, and backend start-up for the CLI. */
import type { Command } from 'commander';
import { type BackendStatus, initBackend } from '../backend/native.js';
import { oneOf } from './args.js';

/** The values --backend takes. */
const BACKENDS = ['native', 'cpu'] as const;

export interface BackendFlags {
  backend?: string;
  requireNative?: boolean;
}

export function withBackendOptions(cmd: Command): Command {
  return cmd
    .option(
      '--backend <name>',
      "tfjs backend: 'native' (oneDNN, default when built) or 'cpu' (tfjs pure JS)",
      oneOf('--backend', BACKENDS),
    )
    .option('--require-native', 'fail if the native backend is unavailable (also SASA_REQUIRE_NATIVE=1)');
}

export function startBackend(flags: BackendFlags): Promise<BackendStatus> {
  const env = process.env.SASA_BACKEND;
  if (flags.backend === undefined && env && !(BACKENDS as readonly string[]).includes(env)) {
    throw new Error(`SASA_BACKEND=${env}: must be one of ${BACKENDS.join(', ')} (or --backend one of them)`);
  }
  return initBackend({ backend: flags.backend, require: flags.requireNative || undefined });
}
