import type { EntityKind } from '@freshet/avro';

/**
 * The key of an entity on every topic and in every sink: `<KIND>:<id>` (the id may itself hold
 * colons: only the first one separates). Built and parsed here alone.
 */
export function entityKey(kind: EntityKind, id: string): string {
  return `${kind}:${id}`;
}

export function parseEntityKey(key: string): { kind: EntityKind; id: string } | null {
  const at = key.indexOf(':');
  return at <= 0 ? null : { kind: key.slice(0, at), id: key.slice(at + 1) };
}
