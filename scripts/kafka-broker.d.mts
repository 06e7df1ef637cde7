export interface RunningBroker {
  brokers: string;
  pid: number;
  dir: string;
  /** with `secure`: the SASL_SSL listener's address */
  secureBrokers?: string;
  /** with `secure`: PEM of the broker's self-signed certificate, for clients to trust */
  caFile?: string;
}
export interface StartOptions {
  timeoutMs?: number;
  /** open a SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) for these users (name -> password) */
  secure?: { users: Record<string, string> };
}
export function classpath(): string;
export function startBroker(dir?: string, options?: StartOptions): Promise<RunningBroker>;
export function stopBroker(dir: string, options?: { removeData?: boolean }): Promise<void>;
export function restartBroker(dir: string, options?: { timeoutMs?: number }): Promise<RunningBroker>;
