/**
 * Declarative command-line options: each command lists its options once, and the same table
 * drives parsing, validation (with a message naming the bad option) and --help.
 */
export interface OptionSpec {
  name: string;
  help: string;
  kind: 'number' | 'string' | 'boolean' | 'list';
  default?: string | number | boolean;
  choices?: readonly string[];
}

export type OptionValues = Map<string, string | number | boolean | string[]>;

export function parseOptions(specs: readonly OptionSpec[], argv: readonly string[]): OptionValues {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: OptionValues = new Map();
  for (const s of specs) if (s.default !== undefined) values.set(s.name, convert(s, String(s.default)));
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    if (!raw.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(raw)}; options look like --name value`);
    const eq = raw.indexOf('=');
    const name = eq > 0 ? raw.slice(2, eq) : raw.slice(2);
    const spec = byName.get(name);
    if (!spec) throw new Error(`unknown option --${name} (see --help)`);
    let text: string;
    if (eq > 0) text = raw.slice(eq + 1);
    else if (spec.kind === 'boolean' && (i + 1 >= argv.length || argv[i + 1].startsWith('--'))) text = 'true';
    else if (i + 1 < argv.length) text = argv[++i];
    else throw new Error(`option --${name} needs a value`);
    values.set(name, convert(spec, text));
  }
  return values;
}

function convert(spec: OptionSpec, text: string): string | number | boolean | string[] {
  switch (spec.kind) {
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`--${spec.name} must be a number, got ${JSON.stringify(text)}`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new Error(`--${spec.name} must be true or false, got ${JSON.stringify(text)}`);
      return text === 'true';
    case 'list':
      return text.split(',').filter((x) => x !== '');
    case 'string':
      if (spec.choices && !spec.choices.includes(text)) {
        throw new Error(`--${spec.name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(text)}`);
      }
      return text;
  }
}

export function num(v: OptionValues, name: string): number {
  const x = v.get(name);
  if (typeof x !== 'number') throw new Error(`--${name} is required`);
  return x;
}

export function str(v: OptionValues, name: string): string | undefined {
  const x = v.get(name);
  return typeof x === 'string' ? x : undefined;
}

export function list(v: OptionValues, name: string): string[] {
  const x = v.get(name);
  return Array.isArray(x) ? x : [];
}

export function bool(v: OptionValues, name: string): boolean {
  return v.get(name) === true;
}

export function formatHelp(usage: string, summary: string, specs: readonly OptionSpec[]): string {
  const lines = [`usage: ${usage}`, '', summary, '', 'options:'];
  for (const s of specs) {
    const def = s.default !== undefined ? ` (default ${String(s.default)})` : '';
    const choices = s.choices ? ` [${s.choices.join('|')}]` : '';
    lines.push(`  --${s.name.padEnd(18)} ${s.help}${choices}${def}`);
  }
  return lines.join('\n');
}
