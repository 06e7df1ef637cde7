import type { OptionSpec, OptionValues } from './options.js';

/**
 * Settings with one owner: each component declares its settings once (default, help, limits,
 * the flag that sets it) beside the code that uses them. The same table gives the typed
 * defaults, named presets (what differs between streaming and offline, on purpose), the option
 * table of every service or command that exposes them (flags, environment, --help and
 * validation, through parseOptions), and the differences between two sets of values (a
 * checkpoint's and the running trainer's). Tests, the demo and the benchmarks build typed values
 * with `with()`; nobody fakes an argv.
 */
export type SettingValue = number | string | boolean;

interface Common<T> {
  default: T;
  help: string;
  /** the flag's name without a prefix (none: settable only in code) */
  option?: string;
  /** older flag names still accepted (with their environment variables) */
  aliases?: readonly string[];
  /** the model's shape depends on it: a checkpoint made with another value cannot be restored */
  shape?: boolean;
}

export interface NumberSetting extends Common<number> {
  kind: 'number';
  integer?: boolean;
  min?: number;
  above?: number;
  max?: number;
}
export interface ChoiceSetting<C extends string = string> extends Common<C> {
  kind: 'choice';
  choices: readonly C[];
  /** help per choice, shown after the setting's own */
  choiceHelp?: Readonly<Record<C, string>>;
}
export interface FlagSetting extends Common<boolean> {
  kind: 'flag';
}
export interface TextSetting extends Common<string> {
  kind: 'text';
}
export type AnySetting = NumberSetting | ChoiceSetting | FlagSetting | TextSetting;

export const setting = {
  number: (s: Omit<NumberSetting, 'kind'>): NumberSetting => ({ kind: 'number', ...s }),
  choice: <const C extends string>(choices: readonly C[], s: Omit<ChoiceSetting<C>, 'kind' | 'choices'>): ChoiceSetting<C> => ({
    kind: 'choice',
    choices,
    ...s,
  }),
  flag: (s: Omit<FlagSetting, 'kind'>): FlagSetting => ({ kind: 'flag', ...s }),
  text: (s: Omit<TextSetting, 'kind'>): TextSetting => ({ kind: 'text', ...s }),
};

type ValueOf<S> = S extends NumberSetting
  ? number
  : S extends FlagSetting
    ? boolean
    : S extends ChoiceSetting<infer C>
      ? C
      : S extends TextSetting
        ? string
        : never;

/** The typed values of a table of settings. */
export type SettingsOf<D> = { -readonly [K in keyof D]: ValueOf<D[K]> };

/** How a service or command names a table's flags: a prefix (`image-`), and environment variables FRESHET_<FLAG>. */
export interface OptionNaming {
  prefix?: string;
  /** give every flag an environment variable FRESHET_<PREFIX><FLAG> (services); commands have none */
  env?: boolean;
}

/** A setting whose value differs between two sets (a checkpoint's and now). */
export interface SettingDifference {
  table: string;
  setting: string;
  saved: unknown;
  current: unknown;
  /** the model's shape depends on it */
  shape: boolean;
}

const envName = (flag: string): string => `FRESHET_${flag.toUpperCase().replace(/-/g, '_')}`;

export class SettingsTable<D extends Record<string, AnySetting>> {
  readonly defaults: SettingsOf<D>;

  constructor(
    /** what the settings configure (in messages and checkpoint headers) */
    readonly name: string,
    readonly specs: D,
  ) {
    this.defaults = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.default])) as SettingsOf<D>;
  }

  /** The defaults with these values, each checked as its flag would be. */
  with(overrides: Partial<SettingsOf<D>> = {}): SettingsOf<D> {
    const out = { ...this.defaults };
    for (const [key, value] of Object.entries(overrides) as Array<[keyof D & string, SettingValue | undefined]>) {
      if (value === undefined) continue;
      const spec = this.specs[key];
      if (spec === undefined) throw new Error(`${this.name}: no setting ${key}`);
      check(this.name, key, spec, value);
      (out as Record<string, SettingValue>)[key] = value;
    }
    return out;
  }

  /**
   * This table's settings out of a larger record (a flat set of several tables' values), with
   * defaults for what it lacks. Remembered per record: ingest asks once per event with the same one.
   */
  pick(values: object): SettingsOf<D> {
    const known = this.picked.get(values);
    if (known !== undefined) return known;
    const own: Record<string, SettingValue> = {};
    for (const key of Object.keys(this.specs)) if (key in values) own[key] = (values as Record<string, SettingValue>)[key];
    const out = this.with(own as Partial<SettingsOf<D>>);
    this.picked.set(values, out);
    return out;
  }

  private readonly picked = new WeakMap<object, SettingsOf<D>>();

  /** The same settings with other defaults: a named preset (what differs between streaming and offline on purpose). */
  preset(name: string, overrides: Partial<SettingsOf<D>>): SettingsTable<D> {
    const values = this.with(overrides);
    const specs = Object.fromEntries(Object.entries(this.specs).map(([k, s]) => [k, { ...s, default: values[k] }])) as unknown as D;
    return new SettingsTable(`${this.name} (${name})`, specs);
  }

  /** The table without some settings (a command that offers its own). */
  without<K extends keyof D & string>(...keys: K[]): SettingsTable<Omit<D, K>> {
    const specs = Object.fromEntries(Object.entries(this.specs).filter(([k]) => !keys.includes(k as K))) as unknown as Omit<D, K>;
    return new SettingsTable(this.name, specs);
  }

  /** The table with every flag renamed (a service shows a model's flags under its stream's prefix). */
  renamed(rename: (option: string) => string): SettingsTable<D> {
    const specs = Object.fromEntries(
      Object.entries(this.specs).map(([k, s]) => [k, s.option === undefined ? s : { ...s, option: rename(s.option) }]),
    ) as unknown as D;
    return new SettingsTable(this.name, specs);
  }

  /** The table with older flag names still accepted for some settings (given whole, not prefixed). */
  withAliases(aliases: Partial<Record<keyof D & string, readonly string[]>>): SettingsTable<D> {
    const specs = Object.fromEntries(
      Object.entries(this.specs).map(([k, s]) => [k, aliases[k] === undefined ? s : { ...s, aliases: aliases[k] }]),
    ) as unknown as D;
    return new SettingsTable(this.name, specs);
  }

  /** The option table entries of every setting with a flag. */
  options(naming: OptionNaming = {}): OptionSpec[] {
    const out: OptionSpec[] = [];
    for (const s of Object.values(this.specs)) {
      if (s.option === undefined) continue;
      const name = `${naming.prefix ?? ''}${s.option}`;
      const base = {
        name,
        help: s.help,
        ...(naming.env === true ? { env: envName(name) } : {}),
        ...(s.aliases !== undefined ? { aliases: s.aliases.map((a) => ({ name: a, ...(naming.env === true ? { env: envName(a) } : {}) })) } : {}),
      };
      switch (s.kind) {
        case 'number':
          out.push({ ...base, kind: 'number', default: s.default, ...pick(s, ['integer', 'min', 'above', 'max']) });
          break;
        case 'choice':
          out.push({
            ...base,
            kind: 'string',
            default: s.default,
            choices: s.choices,
            help: s.choiceHelp === undefined ? s.help : `${s.help}: ${s.choices.map((c) => `${c}: ${s.choiceHelp?.[c]}`).join('; ')}`,
          });
          break;
        case 'flag':
          out.push({ ...base, kind: 'boolean', default: s.default });
          break;
        case 'text':
          out.push({ ...base, kind: 'string', default: s.default });
          break;
      }
    }
    return out;
  }

  /** The values parsed from flags and environment (parseOptions with options(naming)); settings without a flag keep their default. */
  read(values: OptionValues, naming: OptionNaming = {}): SettingsOf<D> {
    const out = { ...this.defaults } as Record<string, SettingValue>;
    for (const [key, s] of Object.entries(this.specs)) {
      if (s.option === undefined) continue;
      const v = values.get(`${naming.prefix ?? ''}${s.option}`);
      if (v !== undefined && !Array.isArray(v)) out[key] = v;
    }
    return out as SettingsOf<D>;
  }

  /** Every setting whose saved value differs from the current one (a setting the save lacks counts as its default). */
  diff(saved: Readonly<Record<string, unknown>>, current: SettingsOf<D>): SettingDifference[] {
    const out: SettingDifference[] = [];
    for (const [key, s] of Object.entries(this.specs)) {
      const was = key in saved ? saved[key] : s.default;
      const now = (current as Record<string, unknown>)[key];
      if (was !== now) out.push({ table: this.name, setting: key, saved: was, current: now, shape: s.shape === true });
    }
    return out;
  }

  /** Two tables as one (their keys must differ). */
  static merge<A extends Record<string, AnySetting>, B extends Record<string, AnySetting>>(
    name: string,
    a: SettingsTable<A>,
    b: SettingsTable<B>,
  ): SettingsTable<A & B> {
    for (const k of Object.keys(b.specs)) if (k in a.specs) throw new Error(`${name}: setting ${k} is in both ${a.name} and ${b.name}`);
    return new SettingsTable(name, { ...a.specs, ...b.specs } as A & B);
  }
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** The same checks parseOptions makes of a flag, for values built in code. */
function check(table: string, key: string, s: AnySetting, value: SettingValue): void {
  const fail = (what: string): never => {
    throw new Error(`${table}: ${key} ${what}, got ${JSON.stringify(value)}`);
  };
  switch (s.kind) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('must be a finite number');
      if (s.integer === true && !Number.isInteger(value)) fail('must be a whole number');
      if (s.min !== undefined && (value as number) < s.min) fail(`must be at least ${s.min}`);
      if (s.above !== undefined && !((value as number) > s.above)) fail(`must be greater than ${s.above}`);
      if (s.max !== undefined && (value as number) > s.max) fail(`must be at most ${s.max}`);
      break;
    case 'choice':
      if (!s.choices.includes(value as string)) fail(`must be one of ${s.choices.join(', ')}`);
      break;
    case 'flag':
      if (typeof value !== 'boolean') fail('must be true or false');
      break;
    case 'text':
      if (typeof value !== 'string') fail('must be text');
      break;
  }
}
