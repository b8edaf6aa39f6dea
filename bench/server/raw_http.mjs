// Raw HTTP/1.1 over one keep-alive TCP socket, for measurements that must
// not include a client library's cost: the request is a prebuilt buffer and
// the response is read up to its Content-Length (no chunked encoding; both
// servers measured send Content-Length). Used by bench.mjs (8 raw clients)
// and latency_probe.mjs.
import net from 'node:net';

export class RawConnection {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.pending = null;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (error) => this.pending?.reject(error));
  }

  static open(host, port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  // Sends `bytes` (one whole request) and resolves with {status, head, body}.
  request(bytes) {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(bytes);
    });
  }

  onData(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const total = headEnd + 4 + (match ? Number(match[1]) : 0);
    if (this.buffer.length < total) return;
    const response = this.buffer.subarray(0, total);
    this.buffer = this.buffer.subarray(total);
    const pending = this.pending;
    this.pending = null;
    pending.resolve({ status: Number(head.slice(9, 12)), head, body: response.subarray(headEnd + 4) });
  }

  close() {
    this.socket.destroy();
  }
}

// One request's bytes: request line, host, `headers`, content-length, body.
export function buildRequest(method, path, hostPort, headers, body) {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${hostPort}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), Buffer.from(body)]);
}
