// Starting and stopping a server process of our own (restart tests).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

// A free TCP port on 127.0.0.1, chosen by the kernel.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A spawned server: its process, collected output and exit promise.
export class ServerProcess {
  constructor(bin, args) {
    this.output = '';
    this.exited = false;
    this.child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => { this.output += d; });
    this.child.stderr.on('data', (d) => { this.output += d; });
    this.exit = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      });
      this.child.on('error', (error) => {
        this.exited = true;
        resolve({ code: null, signal: null, error });
      });
    });
  }

  // Waits (bounded) until GET url/api/v2/heartbeat answers 200.
  async waitReady(url, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`server exited before it was ready:\n${this.output}`);
      try {
        const r = await fetch(`${url}/api/v2/heartbeat`);
        if (r.ok) return;
      } catch {
        // Not listening yet: poll again.
      }
      await delay(50);
    }
    throw new Error(`server not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  // Waits (bounded) for the process to exit; resolves {code, signal} or
  // null on timeout.
  async waitExit(timeoutMs = 20000) {
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    const result = await Promise.race([this.exit, timeout]);
    clearTimeout(timer);
    return result;
  }

  // Sends `signal` and waits for the exit (SIGKILL after the bound).
  async stop(signal = 'SIGTERM', timeoutMs = 20000) {
    if (this.exited) return this.exit;
    this.child.kill(signal);
    const result = await this.waitExit(timeoutMs);
    if (result) return result;
    this.child.kill('SIGKILL');
    await this.exit;
    return null;
  }
}

// Extra `ksdb run` arguments for every server the tests start, from
// $KSDB_EXTRA_ARGS (space-separated; e.g. "--store postgresql://...").
export function extraKsdbArgs() {
  return (process.env.KSDB_EXTRA_ARGS || '').split(/\s+/).filter((a) => a.length > 0);
}

// Starts `bin run --path dir --host 127.0.0.1 --port P [$KSDB_EXTRA_ARGS] [extra]`
// and waits until it answers (an explicit --store in `extra` replaces
// $KSDB_EXTRA_ARGS). Returns {proc, url, port}.
export async function startKsdb(bin, dir, extra = []) {
  const port = await freePort();
  const env = extra.includes('--store') ? [] : extraKsdbArgs();
  const proc = new ServerProcess(bin, ['run', '--path', dir, '--host', '127.0.0.1', '--port', String(port),
    ...env, ...extra]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await proc.waitReady(url);
  } catch (e) {
    await proc.stop('SIGKILL');
    throw e;
  }
  return { proc, url, port };
}
