/**
 * The corpus's two file systems that refuse writes, made with mount(8) (root, or CAP_SYS_ADMIN): a
 * tmpfs of 64 KiB filled to the last byte by one file (a full disk: every write gets ENOSPC), and a
 * read-only bind mount of an empty folder (EROFS). Both are real kernel refusals, not injected errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Mounts {
  /** The full file system's root (holds only `filler`). */
  full: string;
  /** The read-only folder (empty). */
  readOnly: string;
}

const mount = (...args: string[]) => execFileSync('mount', args, { stdio: 'pipe' });

/** Fills `dir` until the file system says ENOSPC. */
function fill(dir: string): void {
  try {
    writeFileSync(join(dir, 'filler'), Buffer.alloc(1 << 20));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
}

/** Mounts both under `root`; `{ unavailable: reason }` where this process may not mount. */
export function makeMounts(root: string): Mounts | { unavailable: string } {
  const full = join(root, 'full');
  const source = join(root, 'read-only-source');
  const readOnly = join(root, 'read-only');
  for (const d of [full, source, readOnly]) mkdirSync(d, { recursive: true });
  try {
    mount('-t', 'tmpfs', '-o', 'size=64k', 'sasa-corpus-full', full);
  } catch (err) {
    return { unavailable: `mount -t tmpfs: ${(err as Error).message.split('\n')[0]}` };
  }
  fill(full);
  mount('--bind', '-o', 'ro', source, readOnly);
  return { full, readOnly };
}

/** Unmounts what makeMounts mounted (lazily, so a busy handle cannot leave them behind). */
export function removeMounts(mounts: Mounts): void {
  for (const dir of [mounts.readOnly, mounts.full]) execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
}
