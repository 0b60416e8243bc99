/** `sasa doctor`: which backend runs, and what it runs on. */

import type { Command } from 'commander';
import { NATIVE_FIX } from '../backend/native.js';
import * as tf from '../tf.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';

export function registerDoctor(program: Command): void {
  withBackendOptions(program.command('doctor'))
    .description('report the backend in use, oneDNN version and ISA, threads, Node and tfjs versions')
    .option('--json', 'print one JSON object')
    .action(async (flags: BackendFlags & { json?: boolean }) => {
      const status = await startBackend(flags);
      const report = {
        backend: status.backend,
        native: status.native,
        reason: status.reason ?? null,
        onednn: status.info?.onednnVersion ?? null,
        isa: status.info?.isa ?? null,
        addonCompiledFor: status.info?.compiledFor ?? null,
        threads: status.info?.threads ?? 1,
        heapReuse: status.info?.mallocTuned ?? null,
        node: process.versions.node,
        tfjs: tf.version_core,
        addon: status.addonPath ?? null,
        nativeKernels: status.native ? status.nativeKernels : [],
      };
      if (flags.json) {
        console.log(JSON.stringify(report));
        return;
      }
      const lines = [
        ['backend', `${report.backend}${status.native ? ' (oneDNN native addon)' : ' (TensorFlow.js pure JS)'}`],
        ['oneDNN', report.onednn ?? 'not loaded'],
        ['ISA', report.isa ? `${report.isa} (addon compiled for ${report.addonCompiledFor})` : 'n/a'],
        ['threads', String(report.threads)],
        [
          'heap reuse',
          report.heapReuse === null ? 'n/a' : report.heapReuse ? 'on (SASA_MALLOC_TUNING=0 turns it off)' : 'off',
        ],
        ['node', report.node],
        ['tfjs', report.tfjs],
        ['addon', report.addon ?? 'not loaded'],
      ];
      if (status.native) lines.push(['native kernels', report.nativeKernels.join(', ')]);
      if (!status.native && status.reason) lines.push(['why not native', status.reason], ['fix', NATIVE_FIX]);
      const width = Math.max(...lines.map(([k]) => k.length));
      for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
    });
}
