export interface RunningBroker {
  brokers: string;
  pid: number;
  dir: string;
}
export function classpath(): string;
export function startBroker(dir?: string, options?: { timeoutMs?: number }): Promise<RunningBroker>;
export function stopBroker(dir: string, options?: { removeData?: boolean }): Promise<void>;
export function restartBroker(dir: string, options?: { timeoutMs?: number }): Promise<RunningBroker>;
