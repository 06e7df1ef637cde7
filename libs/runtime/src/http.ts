import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** liveness: false means "restart me" (e.g. the consume loop died) */
  live: () => boolean;
  /** readiness: false while starting, restoring a checkpoint, or shutting down */
  ready: () => boolean;
  /** optional extra JSON on /healthz (e.g. lag, last checkpoint) */
  details?: () => Record<string, unknown>;
  /** more GET endpoints by path (a query service's), answering JSON */
  routes?: Readonly<Record<string, Route>>;
}

/** A JSON answer: its HTTP status and body. */
export interface RouteAnswer {
  status: number;
  body: unknown;
}

/** A GET endpoint: its query parameters in, a JSON answer out. */
export type Route = (query: URLSearchParams) => RouteAnswer | Promise<RouteAnswer>;

const KEEP_ALIVE_MS = 65_000;

/** /metrics, /healthz and /readyz (and a service's own routes) on one small HTTP server, bound to a configurable address. */
export async function startHealthServer(opts: HealthServerOptions): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      opts.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(text))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? opts.live() : opts.ready();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok, ...(opts.details?.() ?? {}) }));
      return;
    }
    const route = opts.routes?.[path];
    if (route !== undefined) {
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      Promise.resolve()
        .then(() => route(query))
        .then((a) => res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(a.body)))
        .catch((err: unknown) => res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: String(err) })));
      return;
    }
    res.writeHead(404).end();
  });
  // Idle keep-alive connections stay open longer than clients keep them (undici 4 s, Prometheus and
  // most load balancers 60 s), so the client closes first: a server closing first races a request
  // already on its way and the client sees "other side closed".
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // the option that sets it, and what to do: no stack trace for a busy port
      const why =
        err.code === 'EADDRINUSE'
          ? 'is in use (another freshet service or a demo may be running; pick another port, or 0 for any free one)'
          : err.code === 'EACCES'
            ? 'needs privileges'
            : err.message;
      reject(new Error(`--http-port ${opts.port} on ${opts.host} ${why}`));
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // idle keep-alive connections would otherwise hold close() for up to KEEP_ALIVE_MS
        server.closeIdleConnections();
      }),
  };
}
