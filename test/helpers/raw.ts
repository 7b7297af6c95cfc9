/** Raw-socket exchanges with the gateway, for input a well-behaved HTTP client cannot send. */
import net from 'node:net';

/** Writes `bytes` (latin1) on a new connection and resolves with everything read until the gateway closes it. */
export function rawExchange(port: number, bytes: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; read so far: ${JSON.stringify(data)}`));
    }, timeoutMs);
    s.setEncoding('latin1');
    s.on('data', (c: string) => (data += c));
    s.on('error', () => undefined); // a reset after the answer is fine: the answer is what is checked
    s.once('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    s.write(bytes, 'latin1');
  });
}
