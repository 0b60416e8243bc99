/**
 * Field checks for COCO entries. Each takes the entry's name for messages (`file: annotations[3] (id 7)`)
 * and throws an Error naming it and the field.
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

/** A finite number > 0 (`min` 'positive') or ≥ 0 ('non-negative'). */
export function numberField(obj: JsonObject, name: string, where: string, min: 'positive' | 'non-negative'): number {
  const value = obj[name];
  const ok = typeof value === 'number' && Number.isFinite(value) && (min === 'positive' ? value > 0 : value >= 0);
  if (!ok) fail(where, `'${name}' must be a finite number ${min === 'positive' ? '> 0' : '≥ 0'}, got ${show(value)}`);
  return value as number;
}

/** `[x, y, width, height]`: four finite numbers, width and height > 0. */
export function boxField(obj: JsonObject, where: string): [number, number, number, number] {
  const box = obj.bbox;
  if (!Array.isArray(box) || box.length !== 4) fail(where, `'bbox' must be [x, y, width, height], got ${show(box)}`);
  const names = ['x', 'y', 'width', 'height'];
  for (let i = 0; i < 4; i++) {
    const v = box[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(where, `'bbox' ${names[i]} must be a finite number, got ${show(v)}`);
    if (i >= 2 && v <= 0) fail(where, `'bbox' ${names[i]} must be > 0, got ${v}`);
  }
  return box as [number, number, number, number];
}
