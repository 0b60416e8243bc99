/**
 * Writing the corpus and running its cases, shared by the test (corpus.test.ts) and the README's
 * table (scripts/corpus-table.ts): fixtures and mounts in a fresh folder, a CLI worker, clean-up.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CorpusCase, resolve } from './cases.js';
import { startWorker } from './cli_worker.js';
import { writeFixtures } from './fixtures.js';
import { type Mounts, makeMounts, removeMounts } from './mounts.js';
import type { Reply } from './worker.js';

export interface Corpus {
  root: string;
  /** Every fixture path by key, the mounts' included. */
  paths: Record<string, string>;
  run: (c: CorpusCase) => Promise<Reply>;
  close: () => void;
}

/** Writes the corpus into a new temporary folder and mounts its file systems; throws where mount(8) is refused. */
export async function openCorpus(): Promise<Corpus> {
  const root = mkdtempSync(join(tmpdir(), 'sasa-corpus-'));
  const worker = startWorker();
  let mounts: Mounts | null = null;
  const close = () => {
    worker.stop();
    if (mounts) removeMounts(mounts);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const fixtures = await writeFixtures(root, worker.run);
    mkdirSync(fixtures.scratch);
    const made = makeMounts(root);
    if (!('full' in made)) {
      throw new Error(`the corpus's full and read-only disks need mount(8) as root (${made.unavailable})`);
    }
    mounts = made;
    const paths: Record<string, string> = { ...fixtures, ...made };
    const run = (c: CorpusCase) =>
      worker.run(
        c.args.map((a) => resolve(a, paths)),
        c.env,
      );
    return { root, paths, run, close };
  } catch (err) {
    close();
    throw err;
  }
}
