/**
 * Writes the bad-input corpus (test/corpus/fixtures.ts) into DIR and prints each case's command line
 * there, to replay one by hand: `npx tsx scripts/make-corpus.ts DIR`. Without mounts (a full and a
 * read-only file system) unless run as root; their cases then print with unresolved paths.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { resolve as absolute } from 'node:path';
import { CORPUS, resolve } from '../test/corpus/cases.js';
import { startWorker } from '../test/corpus/cli_worker.js';
import { writeFixtures } from '../test/corpus/fixtures.js';
import { makeMounts } from '../test/corpus/mounts.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: npx tsx scripts/make-corpus.ts DIR (a new or empty folder)');
mkdirSync(dir, { recursive: true });
if (readdirSync(dir).length) throw new Error(`${dir}: not empty; give a new or empty folder`);
const worker = startWorker();
const paths = await writeFixtures(absolute(dir), worker.run).finally(worker.stop);
mkdirSync(paths.scratch);
const mounts = makeMounts(absolute(dir));
const all: Record<string, string> = { ...paths, ...('full' in mounts ? mounts : {}) };
for (const c of CORPUS) {
  const quote = (a: string) => (/[^\w@%+=:,./-]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a);
  const args = c.args.map((a) => (c.mounts && !('full' in mounts) ? a : resolve(a, all)));
  const env = c.env
    ? Object.entries(c.env)
        .map(([k, v]) => `${k}=${v} `)
        .join('')
    : '';
  console.log(`# ${c.id}\n${env}sasa ${args.map(quote).join(' ')}`);
}
if ('full' in mounts)
  console.log(`# mounted ${mounts.full} and ${mounts.readOnly}: umount them before removing ${dir}`);
