/**
 * Field checks for COCO entries. The `...Field` ones take the entry's name for messages
 * (`file: annotations[3] (id 7)`) and throw an Error naming it and the field; the `...Problem` ones
 * return that message's reason (or undefined), for callers that collect rather than throw.
 */

/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

export function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

export function show(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function asObject(value: unknown, where: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(where, `must be an object, got ${show(value)}`);
  return value as JsonObject;
}

export function arrayField(obj: JsonObject, name: string, where: string): unknown[] {
  const value = obj[name];
  if (!Array.isArray(value)) fail(where, `'${name}' must be an array, got ${show(value)}`);
  return value;
}

/** An id: an integer exactly representable as a double (COCO image ids exceed 2^31). */
export function idField(obj: JsonObject, name: string, where: string): number {
  const value = obj[name];
  if (!Number.isSafeInteger(value)) fail(where, `'${name}' must be an integer id, got ${show(value)}`);
  return value as number;
}

export function stringField(obj: JsonObject, name: string, where: string): string {
  const value = obj[name];
  if (typeof value !== 'string') fail(where, `'${name}' must be a string, got ${show(value)}`);
  return value;
}

/** Why `value` is not a finite number > 0 (`min` 'positive') or ≥ 0 ('non-negative'); undefined when it is. */
export function numberProblem(value: unknown, name: string, min: 'positive' | 'non-negative'): string | undefined {
  const ok = typeof value === 'number' && Number.isFinite(value) && (min === 'positive' ? value > 0 : value >= 0);
  return ok ? undefined : `'${name}' must be a finite number ${min === 'positive' ? '> 0' : '≥ 0'}, got ${show(value)}`;
}

/** A finite number > 0 (`min` 'positive') or ≥ 0 ('non-negative'). */
export function numberField(obj: JsonObject, name: string, where: string, min: 'positive' | 'non-negative'): number {
  const problem = numberProblem(obj[name], name, min);
  if (problem) fail(where, problem);
  return obj[name] as number;
}

/** Why `box` is not `[x, y, width, height]` of four finite numbers with width and height > 0; undefined when it is. */
export function boxProblem(box: unknown): string | undefined {
  if (!Array.isArray(box) || box.length !== 4) return `'bbox' must be [x, y, width, height], got ${show(box)}`;
  const names = ['x', 'y', 'width', 'height'];
  for (let i = 0; i < 4; i++) {
    const v = box[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      return `'bbox' ${names[i]} must be a finite number, got ${show(v)}`;
    if (i >= 2 && v <= 0) return `'bbox' ${names[i]} must be > 0, got ${v}`;
  }
  return undefined;
}

/** `[x, y, width, height]`: four finite numbers, width and height > 0. */
export function boxField(obj: JsonObject, where: string): [number, number, number, number] {
  const problem = boxProblem(obj.bbox);
  if (problem) fail(where, problem);
  return obj.bbox as [number, number, number, number];
}
