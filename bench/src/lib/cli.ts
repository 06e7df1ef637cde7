import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Our command line's entry point (built). */
export const cliPath = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'tools', 'cli', 'dist', 'main.js');

/** `freshet train-words` on a corpus file with the benchmarks' common settings (min count 5, no evaluation). */
export function trainWordsArgv(o: { corpus: string; epochs: number; threads: number; seed: number }): string[] {
  return [
    'train-words',
    '--corpus',
    o.corpus,
    '--min-count',
    '5',
    '--epochs',
    String(o.epochs),
    '--threads',
    String(o.threads),
    '--seed',
    String(o.seed),
    '--evaluate',
    'false',
  ];
}
