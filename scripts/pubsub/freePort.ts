import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: the OS picks it, we release it and
 * hand it to a server that cannot be told to pick its own (the Pub/Sub emulator). Callers
 * retry on a clash with another process.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` (a server started and ready, or still up). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}
