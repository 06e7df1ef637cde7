#!/usr/bin/env node
import { demo, demoOptions } from './demo.js';
import { demoOffline, demoOfflineOptions } from './demo-offline.js';
import { formatHelp, parseOptions, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { synth, synthOptions } from './synth.js';
import { feed, feedOptions } from './feed.js';
import { trainImages, trainImagesOptions } from './train-images.js';
import { trainWords, trainWordsOptions } from './train-words.js';
import { reset, resetOptions } from './reset.js';
import { snapshot, snapshotOptions } from './snapshot.js';
import { tail, tailOptions } from './tail.js';
import { evaluate, evaluateOptions } from './evaluate.js';

interface Command {
  summary: string;
  options: OptionSpec[];
  run: (v: OptionValues) => Promise<unknown> | unknown;
}

const commands: Record<string, Command> = {
  'train-images': {
    summary: 'Train the image-label model (VSE, pairwise hinge) from files or synthetic data; prints JSON with held-out metrics.',
    options: trainImagesOptions,
    run: trainImages,
  },
  'train-words': {
    summary: 'Train skip-gram with negative sampling on text corpora; prints JSON with speed and word-similarity Spearman.',
    options: trainWordsOptions,
    run: trainWords,
  },
  feed: { summary: 'Produce image-label and text-window events from files into Kafka at a chosen rate.', options: feedOptions, run: feed },
  synth: { summary: 'Write a seeded synthetic image-label set (planted low rank, long-tailed labels).', options: synthOptions, run: synth },
  snapshot: {
    summary: 'Read the latest published snapshot from Kafka: counts, age, nearest words, top labels of images; export to word2vec text or NumPy.',
    options: snapshotOptions,
    run: snapshot,
  },
  evaluate: {
    summary: 'Held-out P@5, P@10 and MAP of the latest published snapshot on a file of image_id<TAB>label.',
    options: evaluateOptions,
    run: evaluate,
  },
  tail: {
    summary: 'Decode the dead-letter topic (why each record was rejected) or the model-update topic, one JSON object per line.',
    options: tailOptions,
    run: tail,
  },
  reset: {
    summary: "Start a deployment fresh: remove the trainer's checkpoints and delete the consumer groups of a topic prefix (services stopped).",
    options: resetOptions,
    run: reset,
  },
  demo: { summary: 'The streaming pipeline in one process on in-memory topics: feed, train, publish, query.', options: demoOptions, run: demo },
  'demo-offline': { summary: 'Both models trained offline on real data, and what they learned.', options: demoOfflineOptions, run: demoOffline },
};

function usage(): string {
  const lines = ['usage: freshet <command> [options]   (freshet <command> --help for its options)', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(14)} ${c.summary}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`freshet: unknown command ${JSON.stringify(name)}\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(formatHelp(`freshet ${name} [options]`, command.summary, command.options) + '\n');
    return 0;
  }
  let values: OptionValues;
  try {
    values = parseOptions(command.options, rest, process.env);
  } catch (err) {
    process.stderr.write(`freshet ${name}: ${(err as Error).message}\n`);
    return 2;
  }
  const result = await command.run(values);
  // stdout's last line is always one JSON object (the synth command writes data there unless --out)
  if (name !== 'synth' || values.get('out') !== undefined) process.stdout.write(JSON.stringify(result) + '\n');
  return 0;
}

/** Exits once stdout is flushed: a command that failed must not linger (an open HTTP server, a Kafka client). */
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  // an input or configuration problem: one line that names it, no stack trace
  process.stderr.write(`freshet: ${err instanceof Error ? err.message : String(err)}\n`);
  exit(1);
});
