/** The bench scripts' command-line reading: `--name value` options and `--name` switches. */

/** The value after `--name` on the command line, or `def` when the option is absent. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** Whether the switch `--name` is on the command line. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}
