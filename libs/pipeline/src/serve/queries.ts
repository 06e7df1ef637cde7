import type { Route, RouteAnswer } from '@freshet/runtime';
import type { ServeProcessor } from './server.js';
import { METRICS, type Metric } from './store.js';

/** A query that cannot be answered as asked: a 400 with the reason. */
class BadQuery extends Error {}

const bad = (reason: string): never => {
  throw new BadQuery(reason);
};

function kOf(q: URLSearchParams, maxK: number): number {
  const text = q.get('k') ?? '10';
  const k = Number(text);
  if (!Number.isInteger(k) || k < 1 || k > maxK) bad(`k must be a whole number from 1 to ${maxK}, got ${JSON.stringify(text)}`);
  return k;
}

function listOf(q: URLSearchParams, name: string): string[] {
  return (q.get(name) ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** Runs a query, turning a BadQuery into a 400 and an unknown entity into a 404, both with a reason. */
function answer(s: ServeProcessor, route: string, compute: () => Record<string, unknown> | { status: number; body: Record<string, unknown> }): RouteAnswer {
  return s.timed(route, () => {
    try {
      const out = compute();
      if ('status' in out && typeof out.status === 'number' && 'body' in out)
        return { status: out.status, body: { ...(out.body as Record<string, unknown>), ...s.freshness() } };
      return { status: 200, body: { ...out, ...s.freshness() } };
    } catch (err) {
      if (err instanceof BadQuery) return { status: 400, body: { error: err.message } };
      throw err;
    }
  });
}

const notFound = (what: string): { status: number; body: Record<string, unknown> } => ({
  status: 404,
  body: { error: `${what} is not held (not trained yet, or deleted)` },
});

/**
 * The query endpoints of `freshet serve`, every answer with the model version, the event-time
 * watermark and its age:
 *  - GET /neighbours?kind=WORD&id=whale&k=10&metric=cos  (or &vector=0.1,0.2,... instead of id):
 *    the nearest entities of the kind, the query entity left out;
 *  - GET /labels?image=ID&k=10&exclude=sky,sea: an image's top labels, score = image · label +
 *    the label's bias (what the model ranks by), leaving out the labels named in `exclude`
 *    (the image's training labels, say);
 *  - GET /vector?kind=WORD&id=whale: the entity's vector and bias.
 */
export function serveRoutes(s: ServeProcessor, maxK: number): Record<string, Route> {
  return {
    '/neighbours': (q) =>
      answer(s, 'neighbours', () => {
        const kind = q.get('kind') ?? bad('kind is required (WORD, LABEL or IMAGE)');
        const store = s.store(kind);
        if (store === undefined) return notFound(`kind ${JSON.stringify(kind)}`);
        const metric = (q.get('metric') ?? 'cos') as Metric;
        if (!METRICS.includes(metric)) bad(`metric must be cos or dot, got ${JSON.stringify(metric)}`);
        if (!store.answers(metric)) bad(`metric ${metric} is not indexed for ${kind} (start serve with --metrics ${metric})`);
        const k = kOf(q, maxK);
        const id = q.get('id');
        const vectorText = q.get('vector');
        if ((id === null) === (vectorText === null)) bad('give either id or vector');
        let query: Float32Array;
        const exclude = new Set<string>();
        if (id !== null) {
          const held = store.get(id);
          if (held === null) return notFound(`${kind} ${JSON.stringify(id)}`);
          query = held.vector;
          exclude.add(id);
        } else {
          const parts = (vectorText ?? '').split(',').map(Number);
          if (parts.length !== store.dim || !parts.every(Number.isFinite)) bad(`vector must be ${store.dim} finite numbers separated by commas`);
          query = Float32Array.from(parts);
        }
        return { kind, metric, k, results: store.nearest(query, k, metric, { exclude }) };
      }),
    '/labels': (q) =>
      answer(s, 'labels', () => {
        const image = q.get('image') ?? bad('image is required');
        const k = kOf(q, maxK);
        const images = s.store('IMAGE');
        const labels = s.store('LABEL');
        const held = images?.get(image) ?? null;
        if (held === null || labels === undefined) return notFound(`IMAGE ${JSON.stringify(image)}`);
        const exclude = new Set(listOf(q, 'exclude'));
        // a zero-shot label says so, as the snapshot reader's answers do
        const results = labels.nearest(held.vector, k, 'dot', { exclude, withBias: true }).map((r) => (s.isZeroShot(r.id) ? { ...r, zeroShot: true } : r));
        s.servedZeroShot(results.filter((r) => 'zeroShot' in r).length);
        return { image, k, excluded: [...exclude], results };
      }),
    '/vector': (q) =>
      answer(s, 'vector', () => {
        const kind = q.get('kind') ?? bad('kind is required');
        const id = q.get('id') ?? bad('id is required');
        const held = s.store(kind)?.get(id) ?? null;
        if (held === null) return notFound(`${kind} ${JSON.stringify(id)}`);
        return { kind, id, dim: held.vector.length, vector: Array.from(held.vector), bias: held.bias };
      }),
  };
}
