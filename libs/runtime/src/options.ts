/**
 * Declarative options: each command or service lists its options once, and the same table drives
 * parsing of flags and environment variables, validation (with a message naming the bad setting)
 * and --help. Precedence: flag, then environment variable, then default.
 */
export interface OptionSpec {
  name: string;
  help: string;
  kind: 'number' | 'string' | 'boolean' | 'list';
  default?: string | number | boolean;
  choices?: readonly string[];
  /** environment variable that sets it (services: FRESHET_*, KAFKA_BROKERS, ...) */
  env?: string;
  /** a secret: never printed in --help defaults or logs */
  secret?: boolean;
  /** must be given (by flag or env) */
  required?: boolean;
  /** numbers: the smallest value accepted (inclusive), or above which (exclusive) */
  min?: number;
  above?: number;
  /** numbers: the largest value accepted (inclusive) */
  max?: number;
  /** numbers: whole numbers only */
  integer?: boolean;
  /** older names still accepted, as flags and (if given) environment variables */
  aliases?: ReadonlyArray<{ name: string; env?: string }>;
}

export type OptionValues = Map<string, string | number | boolean | string[]>;

export function parseOptions(specs: readonly OptionSpec[], argv: readonly string[], env: Record<string, string | undefined> = {}): OptionValues {
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (const s of specs) for (const a of s.aliases ?? []) byName.set(a.name, s);
  const values: OptionValues = new Map();
  for (const s of specs) if (s.default !== undefined) values.set(s.name, convert(s, String(s.default)));
  for (const s of specs) {
    // the current name's variable wins over an older one's
    for (const name of [...(s.aliases ?? []).map((a) => a.env), s.env]) {
      const fromEnv = name !== undefined ? env[name] : undefined;
      if (fromEnv !== undefined && fromEnv !== '') values.set(s.name, convert(s, fromEnv, name));
    }
  }
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
    // a list takes commas or spaces: `--neighbours whale,ship` and `--neighbours whale ship` alike
    if (spec.kind === 'list' && eq < 0) while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) text += `,${argv[++i]}`;
    values.set(spec.name, convert(spec, text));
  }
  for (const s of specs) {
    if (s.required && !values.has(s.name)) throw new Error(`--${s.name}${s.env ? ` (or ${s.env})` : ''} is required`);
  }
  return values;
}

function convert(spec: OptionSpec, text: string, envName?: string): string | number | boolean | string[] {
  const label = envName !== undefined ? `${envName} (--${spec.name})` : `--${spec.name}`;
  const shown = spec.secret ? '(hidden)' : JSON.stringify(text);
  switch (spec.kind) {
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${label} must be a number, got ${shown}`);
      if (spec.integer && !Number.isInteger(n)) throw new Error(`${label} must be a whole number, got ${shown}`);
      if (spec.min !== undefined && n < spec.min) throw new Error(`${label} must be at least ${spec.min}, got ${shown}`);
      if (spec.above !== undefined && !(n > spec.above)) throw new Error(`${label} must be greater than ${spec.above}, got ${shown}`);
      if (spec.max !== undefined && n > spec.max) throw new Error(`${label} must be at most ${spec.max}, got ${shown}`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new Error(`${label} must be true or false, got ${shown}`);
      return text === 'true';
    case 'list':
      return text.split(',').filter((x) => x !== '');
    case 'string':
      if (spec.choices && !spec.choices.includes(text)) {
        throw new Error(`${label} must be one of ${spec.choices.join(', ')}, got ${shown}`);
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
    const def = s.default !== undefined && !s.secret ? ` (default ${String(s.default)})` : '';
    const choices = s.choices ? ` [${s.choices.join('|')}]` : '';
    const env = s.env ? ` [env ${s.env}]` : '';
    const aliases = s.aliases !== undefined && s.aliases.length > 0 ? ` (also --${s.aliases.map((a) => a.name).join(', --')})` : '';
    lines.push(`  --${s.name.padEnd(18)} ${s.help}${choices}${def}${env}${aliases}`);
  }
  return lines.join('\n');
}
