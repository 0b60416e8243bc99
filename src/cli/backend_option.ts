/** The --backend option every compute command takes, and backend start-up for the CLI. */
import type { Command } from 'commander';
import { type BackendStatus, initBackend } from '../backend/native.js';

export interface BackendFlags {
  backend?: string;
  requireNative?: boolean;
}

export function withBackendOptions(cmd: Command): Command {
  return cmd
    .option('--backend <name>', "tfjs backend: 'native' (oneDNN, default when built) or 'cpu' (tfjs pure JS)")
    .option('--require-native', 'fail if the native backend is unavailable (also SASA_REQUIRE_NATIVE=1)');
}

export function startBackend(flags: BackendFlags): Promise<BackendStatus> {
  return initBackend({ backend: flags.backend, require: flags.requireNative || undefined });
}
