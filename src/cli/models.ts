/** `sasa models [pattern]`: the registered models with their parameters and FLOPs. */
import type { Command } from 'commander';
import { countModel } from '../models/count.js';
import { listModels, modelConfig } from '../models/registry.js';

export function registerModels(program: Command): void {
  program
    .command('models [pattern]')
    .description("list the registered models ('*' wildcards), with parameters and FLOPs at 224×224")
    .option('--json', 'print one JSON array of {name, params, flops, config}')
    .action((pattern: string | undefined, flags: { json?: boolean }) => {
      const names = listModels(pattern);
      if (names.length === 0)
        throw new Error(`no model matches '${pattern}'; known models: ${listModels().join(', ')}`);
      const rows = names.map((name) => {
        const config = modelConfig(name);
        const { params, flops } = countModel(config);
        return { name, params, flops, config };
      });
      if (flags.json) console.log(JSON.stringify(rows));
      else {
        const width = Math.max(...names.map((n) => n.length));
        for (const r of rows) {
          console.log(
            `${r.name.padEnd(width)}  ${(r.params / 1e6).toFixed(1).padStart(5)} M params  ${(r.flops / 1e9).toFixed(1).padStart(4)} B FLOPs`,
          );
        }
      }
    });
}
