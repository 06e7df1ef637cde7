import { writeFileSync } from 'node:fs';
import { generateSynthetic, formatImageLabels } from '@freshet/datasets';
import { num, str, type OptionSpec, type OptionValues } from '@freshet/runtime';

export const synthOptions: OptionSpec[] = [
  { name: 'images', kind: 'number', integer: true, min: 1, default: 20_000, help: 'images to generate' },
  { name: 'labels', kind: 'number', integer: true, min: 2, max: 1_000_000, default: 5_000, help: 'label vocabulary (up to 1,000,000)' },
  { name: 'rank', kind: 'number', integer: true, min: 1, default: 16, help: 'planted rank (latent topics)' },
  { name: 'zipf', kind: 'number', min: 0, default: 1, help: 'Zipf exponent of label popularity' },
  { name: 'mean-labels', kind: 'number', above: 0, default: 4, help: 'mean labels per image' },
  { name: 'noise', kind: 'number', min: 0, max: 1, default: 0.05, help: 'share of labels drawn from global popularity' },
  { name: 'seed', kind: 'number', integer: true, default: 1, help: 'random seed' },
  { name: 'out', kind: 'string', help: 'output file (image_id<TAB>labels); stdout when absent' },
];

export function synth(v: OptionValues): { command: 'synth'; images: number; labels: number; out: string | null } {
  const images = generateSynthetic({
    images: num(v, 'images'),
    labels: num(v, 'labels'),
    rank: num(v, 'rank'),
    zipf: num(v, 'zipf'),
    meanLabels: num(v, 'mean-labels'),
    topicsPerImage: 2,
    noise: num(v, 'noise'),
    seed: num(v, 'seed'),
  });
  const text = formatImageLabels(images);
  const out = str(v, 'out');
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  return { command: 'synth', images: images.length, labels: new Set(images.flatMap((i) => i.labels)).size, out: out ?? null };
}
