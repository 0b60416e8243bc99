/**
 * The TensorFlow.js versions sasa works with: its peer-dependency range (package.json's
 * `peerDependencies`, checked equal by a test) and the check run when sasa is imported, so a tfjs
 * outside the range fails with one message naming both versions instead of a failure deep inside.
 */

/** package.json's peer range for @tensorflow/tfjs-core, -layers and -backend-cpu. */
export const TFJS_PEER_RANGE = '>=4.22.0 <5';
/** The lowest version in the range (inclusive) and the first major outside it. */
const LOWEST: Version = [4, 22, 0];
const BELOW_MAJOR = 5;
/** The version sasa is built and tested with (the pinned devDependencies). */
export const TFJS_TESTED = '4.22.0';
/** The peer dependencies the range applies to. */
export const TFJS_PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu'];

type Version = [number, number, number];

/** major.minor.patch of a version string ('4.22.0', '4.22.0-rc.1'); undefined when it has none. */
function parseVersion(version: string): Version | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function below(a: Version, b: Version): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/** Whether `version` is in TFJS_PEER_RANGE. */
export function inPeerRange(version: string): boolean {
  const v = parseVersion(version);
  return v !== undefined && !below(v, LOWEST) && v[0] < BELOW_MAJOR;
}

/**
 * The one message for installed tfjs packages outside the range (package name → its version),
 * or undefined when all are in it.
 */
export function tfjsVersionProblem(installed: Record<string, string>): string | undefined {
  const wrong = Object.entries(installed).filter(([, version]) => !inPeerRange(version));
  if (wrong.length === 0) return undefined;
  const found = wrong.map(([name, version]) => `${name}@${version}`).join(' and ');
  const fix = TFJS_PACKAGES.map((name) => `${name}@${TFJS_TESTED}`).join(' ');
  return (
    `sasa needs TensorFlow.js ${TFJS_PEER_RANGE} (built and tested with ${TFJS_TESTED}), but ${found} ${wrong.length > 1 ? 'are' : 'is'} installed; ` +
    `fix: npm install ${fix}`
  );
}

/** Throws tfjsVersionProblem's message when an installed tfjs package is outside the range. */
export function checkTfjsVersions(installed: Record<string, string>): void {
  const problem = tfjsVersionProblem(installed);
  if (problem) throw new Error(problem);
}
