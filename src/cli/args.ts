/** Parsing and validation of command-line values, with errors that name the option. */
import { InvalidArgumentError } from 'commander';

export function positiveInt(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer, got '${value}'`);
    return n;
  };
}

export function nonNegativeInt(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${value}'`);
    return n;
  };
}

/** "8,56,56,64" → [8, 56, 56, 64], exactly `rank` positive integers. */
export function shapeOf(name: string, rank: number): (value: string) => number[] {
  return (value: string) => {
    const dims = value.split(',').map((s) => Number(s.trim()));
    if (dims.length !== rank || dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new InvalidArgumentError(`${name} must be ${rank} positive integers separated by commas, got '${value}'`);
    }
    return dims;
  };
}

export function positiveNumber(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!(n > 0 && Number.isFinite(n)))
      throw new InvalidArgumentError(`${name} must be a positive number, got '${value}'`);
    return n;
  };
}

export function nonNegativeNumber(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!(n >= 0 && Number.isFinite(n)))
      throw new InvalidArgumentError(`${name} must be a non-negative number, got '${value}'`);
    return n;
  };
}

/** A number in [0, max). */
export function fraction(name: string, max = 1): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!(n >= 0 && n < max)) throw new InvalidArgumentError(`${name} must be a number in [0, ${max}), got '${value}'`);
    return n;
  };
}

/** One of `choices`, exactly. */
export function oneOf<T extends string>(name: string, choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, got '${value}'`);
    }
    return value as T;
  };
}
