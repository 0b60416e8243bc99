/**
 * The options a resumed run continues with. Each option has a rule: `apply` (it changes how the run
 * goes on, not what it is: the learning rate, the epochs, the checkpoint interval…) or `refuse` (it
 * is the run's identity: the model, the seed, the batch size…). Options asked for with the resume
 * that differ from the stored ones are applied and reported, or refused all together in one error
 * naming their flags and both values — never ignored.
 */

export type ResumeRule = 'apply' | 'refuse';

export interface OptionRule {
  /** The command-line flag that sets the option (named in messages). */
  flag: string;
  rule: ResumeRule;
}

/** An applied change: the option, its flag, the stored and the new value. */
export interface OptionChange {
  option: string;
  flag: string;
  from: unknown;
  to: unknown;
}

export interface ResumeComparison<O> {
  /** True when the two values of `key` count as the same (default: equal as JSON). */
  same?(key: keyof O, stored: unknown, requested: unknown): boolean;
  /** `stored` and `requested` of `key` in words, for a refusal (default: as JSON). */
  describe?(key: keyof O, stored: unknown, requested: unknown): string;
}

const json = (v: unknown) => JSON.stringify(v);

/**
 * `stored` with the options in `given` (default: all) taken from `requested` where they differ and
 * their rule applies; throws, naming `where` and each refused flag with both values, when any differ
 * whose rule refuses.
 */
export function resumeOptions<O extends object>(
  where: string,
  stored: O,
  requested: O,
  rules: Record<keyof O, OptionRule>,
  given: readonly (keyof O)[] = Object.keys(rules) as (keyof O)[],
  compare: ResumeComparison<O> = {},
): { options: O; changes: OptionChange[] } {
  const same = compare.same ?? ((_k, a, b) => json(a) === json(b));
  const describe = compare.describe ?? ((_k, a, b) => `the run has ${json(a)}, asked ${json(b)}`);
  const options = { ...stored };
  const changes: OptionChange[] = [];
  const refused: string[] = [];
  for (const key of given) {
    const [from, to] = [stored[key], requested[key]];
    if (same(key, from, to)) continue;
    const { flag, rule } = rules[key];
    if (rule === 'refuse') refused.push(`${flag} (${describe(key, from, to)})`);
    else {
      options[key] = to;
      changes.push({ option: String(key), flag, from, to });
    }
  }
  if (refused.length) {
    throw new Error(
      `${where}: --resume cannot change ${refused.join(', ')}: ${refused.length > 1 ? 'they fix' : 'it fixes'} what the run is; ` +
        `leave ${refused.length > 1 ? 'them' : 'it'} out to continue, or train into another --out`,
    );
  }
  return { options, changes };
}

/** The changes in words for a message: `--lr 1000000 → 0.01, --epochs 3 → 5`. */
export function describeChanges(changes: readonly OptionChange[]): string {
  return changes.map((c) => `${c.flag} ${json(c.from)} → ${json(c.to)}`).join(', ');
}
