import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the test PostgreSQL server, so a test can take "the database" away from
 * one app - cut every open connection and refuse new ones - and bring it back, without touching the
 * server other tests share.
 */
export interface TcpProxy {
  port: number;
  /** Cuts every connection (mid-query ones included) and refuses new ones until `up`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const onConnection = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  let server: Server = createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  const cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    port,
    down: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        cut();
      });
    },
    up: async () => {
      server = createServer(onConnection);
      await listen(port);
    },
    close: async () => {
      cut();
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
