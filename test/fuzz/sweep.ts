/** Runs fuzz cases of one op in this process and tallies the verdicts. */
import { hashInts } from '../../src/data/random.js';
import { type FuzzCase, isFailure, judge, type Verdict } from './harness.js';
import type { FuzzOp } from './ops.js';
import { Random } from './random.js';

/** Case `index` of `op` under `seed`: the same case every time. */
export function caseOf(op: FuzzOp, seed: number, index: number): FuzzCase {
  const random = new Random(hashInts(seed, index));
  const draft = op.generate(random);
  return { op: op.name, seed, index, ...draft, unusual: random.unusual };
}

export interface Tally {
  cases: number;
  matched: number;
  refused: number;
  failures: { fuzzCase: FuzzCase; verdict: Verdict }[];
}

/**
 * Cases start..end-1 of `op`; `before` sees each case before it runs (the sweep's parent
 * process learns from it which case crashed).
 */
export async function sweep(
  op: FuzzOp,
  seed: number,
  start: number,
  end: number,
  before: (c: FuzzCase) => void = () => {},
): Promise<Tally> {
  const tally: Tally = { cases: 0, matched: 0, refused: 0, failures: [] };
  for (let i = start; i < end; i++) {
    const fuzzCase = caseOf(op, seed, i);
    before(fuzzCase);
    const verdict = await judge(fuzzCase, op.run, op.slack);
    tally.cases++;
    if (verdict.kind === 'match') tally.matched++;
    else if (verdict.kind === 'refused' || verdict.kind === 'refused-stricter') tally.refused++;
    if (isFailure(verdict)) tally.failures.push({ fuzzCase, verdict });
  }
  return tally;
}
