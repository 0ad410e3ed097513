import { EventEmitter } from 'node:events';
import type { Client } from '../client.js';
import { ConnectionError, DrainingError, InvalidArgumentError, NotFoundError, ProtocolError, TimeoutError } from '../errors.js';
import type { JobRef, Producer, PutOptions } from '../producer.js';
import { DEFAULT_DELAY, DEFAULT_PRIORITY, DEFAULT_TTR, type Job } from '../protocol/commands.js';
import type { ConnectOptions } from '../options.js';
import type { JobStats } from '../protocol/stats.js';
import { checkBody, checkId, checkTube, checkUint32 } from '../protocol/validate.js';
import { drainJobs, storeCopy, type DrainOptions, type DrainResult, type JobCopy } from './drain.js';
import { ServerNode } from './node.js';
import { resolveCluster, serverOptions, type ClusterOptions, type ResolvedCluster } from './options.js';
import { ServerSet } from './servers.js';
import { sumServerStats, sumTubeStats, type ClusterStats, type ClusterTubeStats, type ServerAnswer } from './stats.js';

export interface ServerStatus {
  /** The URL as given. */
  readonly url: string;
  /** Connected, and answering. */
  readonly up: boolean;
  /** Taken out of the rotation (by `exclude` or `drainServer`): no puts, not in the key hash. */
  readonly excluded: boolean;
  /** Why it is down, or was last. */
  readonly error: Error | undefined;
}

export interface ClusterEvents {
  /** A server was marked down (refused, dropped, timed out, or in drain mode); it is retried in the background. */
  'server:down': [info: { readonly server: string; readonly error: Error }];
  /** A server answers again (or for the first time) and takes puts. */
  'server:up': [info: { readonly server: string }];
}

/**
 * Several independent beanstalkd servers used as one producer. Each server has its own client; a put
 * goes to one of them and resolves with a JobRef, the server's URL with the id.
 *
 * Failures: a server that refuses or drops connections, or whose command times out, is marked down
 * at once and dialed again in the background (with the `retry` policy) until it answers; puts go to
 * the others meanwhile. A server that stops answering without closing is marked down within
 * commandTimeoutMs + commandTimeoutMs/4 (the client's check, at most 1 s) with commands in flight,
 * plus healthCheckMs when idle: 3.5 s with the defaults. A put already sent when its server fails is
 * never sent again (the server may have stored it): it rejects with the client's ConnectionError
 * (`maybeApplied: true`) or TimeoutError. A put not yet sent, or refused with DRAINING, goes to
 * another server. So a put without a key issued once a failure is known fails only if no server is
 * up. Priority and FIFO order hold within one server only.
 */
export class Cluster extends EventEmitter<ClusterEvents> implements Producer {
  private readonly servers: ServerSet;
  private readonly config: ResolvedCluster;
  private closed = false;

  /**
   * Connects to every server, and resolves once each has answered or failed its first attempt
   * (bounded by connectTimeoutMs, then commandTimeoutMs for the first reply), if at least one is up;
   * the others are retried in the background. Rejects with ConnectionError when none can be reached.
   * `target`: URLs (an array or comma-separated), options, or nothing for `$BEANSTALKD_URL`.
   */
  static async connect(target?: string | readonly string[] | ClusterOptions): Promise<Cluster> {
    const config = resolveCluster(target);
    const cluster = new Cluster(config);
    const started = await Promise.all(cluster.servers.all.map((node) => node.start()));
    if (!started.includes(true)) {
      await cluster.close();
      const reasons = cluster.servers.all.map((node) => `${node.url}: ${node.error?.message ?? 'unknown'}`);
      throw new ConnectionError(`cannot reach any server of the cluster (${reasons.join('; ')})`, {
        cause: new AggregateError(cluster.servers.all.map((node) => node.error)),
      });
    }
    return cluster;
  }

  private constructor(config: ResolvedCluster) {
    super();
    this.config = config;
    this.servers = new ServerSet(config.urls.map((url) => this.node(url, config.connect.get(url) as ConnectOptions)));
  }

  private node(url: string, options: ConnectOptions): ServerNode {
    const node = new ServerNode(url, options, this.config);
    node.on('down', (error) => this.emit('server:down', { server: url, error }));
    node.on('up', () => this.emit('server:up', { server: url }));
    return node;
  }

  /** Each server's state, in the order given. */
  get status(): ServerStatus[] {
    return this.servers.all.map((node) => ({ url: node.url, up: node.up, excluded: node.excluded, error: node.error }));
  }

  /**
   * Puts a job on one server. Without `key`, the next server in turn of those up; with one, the
   * server that owns the key (rendezvous hashing over the servers not excluded, up or not), so that
   * jobs of one key stay in order on one server.
   *
   * If the key's server is down the put rejects with ConnectionError (`maybeApplied: false`) rather
   * than go elsewhere: a job of the key on another server could run before the earlier ones still on
   * the down server. The caller can wait for `server:up`, or put without a key.
   */
  put(body: Buffer | Uint8Array | string, options: PutOptions = {}): Promise<JobRef> {
    let data: Buffer;
    let put: Required<Omit<PutOptions, 'key'>>;
    try {
      data = checkBody(body);
      put = {
        tube: checkTube(given(options.tube, 'default')),
        priority: checkUint32(given(options.priority, DEFAULT_PRIORITY), 'priority'),
        delay: checkUint32(given(options.delay, DEFAULT_DELAY), 'delay'),
        ttr: checkUint32(given(options.ttr, DEFAULT_TTR), 'ttr'),
      };
      if (options.key !== undefined && typeof options.key !== 'string') {
        throw new InvalidArgumentError('key', `key must be a string, got ${typeof options.key}`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.closed) return Promise.reject(closedError('put'));
    if (options.key !== undefined) return this.putKeyed(data, put, options.key);
    return this.putSpread(data, put);
  }

  private async putSpread(body: Buffer, options: PutOptions): Promise<JobRef> {
    let lastError: Error | undefined;
    for (let tries = 0; tries < this.servers.size; tries += 1) {
      const node = this.servers.next();
      if (node === undefined) break;
      const client = node.client as Client;
      try {
        return { server: node.url, id: await client.put(body, options) };
      } catch (error) {
        // Sent and perhaps stored: sending it again could make two jobs.
        if (!this.notStored(node, client, error)) throw error;
        lastError = error as Error;
      }
    }
    throw noServerUp('put', this.status, lastError);
  }

  private async putKeyed(body: Buffer, options: PutOptions, key: string): Promise<JobRef> {
    const node = this.servers.ownerOf(key);
    if (node === undefined) throw noServerUp('put', this.status);
    const client = node.client;
    if (client === null) {
      throw new ConnectionError(
        `put: the server of key ${JSON.stringify(key)} (${node.url}) is down, and the job was not sent elsewhere so that its key keeps its order`,
        { command: 'put', maybeApplied: false, cause: node.error },
      );
    }
    try {
      return { server: node.url, id: await client.put(body, options) };
    } catch (error) {
      this.notStored(node, client, error);
      throw error;
    }
  }

  /**
   * Marks the server down if the error says it failed; true when the put was certainly not stored
   * (never written, or refused with DRAINING), so it may go to another server.
   */
  private notStored(node: ServerNode, client: Client, error: unknown): boolean {
    if (error instanceof DrainingError) {
      node.fail(error, client);
      return true;
    }
    if (error instanceof ConnectionError) {
      node.fail(error, client);
      return !error.maybeApplied;
    }
    if (error instanceof TimeoutError || error instanceof ProtocolError) node.fail(error, client);
    return false;
  }

  /** The job a JobRef names, from its server; null when there is none. */
  peek(ref: JobRef): Promise<Job | null> {
    return this.onServerOf(ref, (client, id) => client.peek(id));
  }

  statsJob(ref: JobRef): Promise<JobStats> {
    return this.onServerOf(ref, (client, id) => client.statsJob(id));
  }

  /** Deletes the job a JobRef names (ready, delayed or buried; a reserved one only by its worker). */
  delete(ref: JobRef): Promise<void> {
    return this.onServerOf(ref, (client, id) => client.delete(id));
  }

  /** Checks the JobRef, then runs `command` on its server; ConnectionError when that server is down. */
  private onServerOf<T>(ref: JobRef, command: (client: Client, id: number) => Promise<T>): Promise<T> {
    let node: ServerNode;
    let id: number;
    try {
      if (typeof ref !== 'object' || ref === null) throw new InvalidArgumentError('ref', 'ref must be a JobRef { server, id }');
      node = this.servers.get(ref.server, 'ref.server');
      id = checkId(ref.id, 'ref.id');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.onServer(node, (client) => command(client, id));
  }

  private async onServer<T>(node: ServerNode, command: (client: Client) => Promise<T>): Promise<T> {
    if (this.closed) throw closedError('command');
    const client = node.client;
    if (client === null) {
      throw new ConnectionError(`${node.url} is down (the command was not sent)`, { maybeApplied: false, cause: node.error });
    }
    try {
      return await command(client);
    } catch (error) {
      this.notStored(node, client, error);
      throw error;
    }
  }

  /** Every server's stats, summed over those that answered; rejects only when none did. */
  async stats(): Promise<ClusterStats> {
    const byServer = await this.askEach((client) => client.stats());
    return sumServerStats(byServer);
  }

  /**
   * One tube's stats, summed over the servers that have it. NotFoundError when every server that
   * answered has no such tube; ConnectionError when none answered.
   */
  async statsTube(tube: string): Promise<ClusterTubeStats> {
    checkTube(tube);
    const byServer = await this.askEach((client) => client.statsTube(tube).catch(nullIfNotFound));
    if (!Object.values(byServer).some((answer) => answer.up && answer.stats !== null)) {
      throw new NotFoundError('stats-tube', `no server of the cluster has the tube ${JSON.stringify(tube)}`);
    }
    return sumTubeStats(tube, byServer);
  }

  private async askEach<T>(ask: (client: Client) => Promise<T>): Promise<Record<string, ServerAnswer<T>>> {
    const answers = await Promise.all(
      this.servers.all.map((node) =>
        this.onServer(node, ask).then(
          (stats): ServerAnswer<T> => ({ up: true, excluded: node.excluded, stats }),
          (error: Error): ServerAnswer<T> => ({ up: false, excluded: node.excluded, error }),
        ),
      ),
    );
    if (!answers.some((answer) => answer.up)) throw noServerUp('stats', this.status);
    return Object.fromEntries(this.servers.all.map((node, index) => [node.url, answers[index] as ServerAnswer<T>]));
  }

  /**
   * Kicks up to `bound` buried jobs of `tube` (or delayed ones where none is buried) across the
   * servers, one server after another, so that no more than `bound` in all; resolves with the count.
   * Servers that are down are skipped (kick again once they are up); rejects only when none answered.
   */
  async kick(tube: string, bound: number): Promise<number> {
    checkTube(tube);
    checkUint32(bound, 'bound');
    let kicked = 0;
    let answered = false;
    for (const node of this.servers.all) {
      if (kicked >= bound) break;
      const count = await this.onServer(node, (client) => {
        // Issued together, so the kick runs on this tube whatever else the client is doing.
        client.use(tube).catch(() => undefined);
        return client.kick(bound - kicked);
      }).catch((error: unknown) => {
        if (error instanceof ConnectionError || error instanceof TimeoutError) return null;
        throw error;
      });
      if (count === null) continue;
      answered = true;
      kicked += count;
    }
    if (!answered && bound > 0) throw noServerUp('kick', this.status);
    return kicked;
  }

  /**
   * Moves every ready, delayed and buried job of one server onto the others, each in its state (see
   * drain.ts for how every job is found and why none is lost). The server is excluded from puts and
   * from the key hash from the start and stays so afterwards, so it does not fill again: `include`
   * takes it back, `removeServer` lets it go. Jobs reserved by workers cannot be moved: the result
   * counts them; wait for the workers, then drain again for any they gave back.
   */
  async drainServer(url: string, options: DrainOptions = {}): Promise<DrainResult> {
    const node = this.servers.get(url, 'url');
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
      throw new InvalidArgumentError('onProgress', 'onProgress must be a function');
    }
    if (node.draining) throw new InvalidArgumentError('url', `${url} is already being drained`);
    if (!this.servers.all.some((other) => other !== node && !other.excluded)) {
      throw new InvalidArgumentError('url', `${url}: no other server of the cluster is left to take its jobs`);
    }
    if (this.closed) throw closedError('drain');
    node.excluded = true;
    node.draining = true;
    try {
      return await drainJobs(node.connectOptions, { place: (copy) => this.place(copy), withdraw: (ref) => this.withdraw(ref) }, options);
    } finally {
      node.draining = false;
    }
  }

  /** Stores a drained job's copy on the next server up, or another if that one fails. */
  private async place(copy: JobCopy): Promise<JobRef> {
    let lastError: Error | undefined;
    for (let tries = 0; tries < this.servers.size; tries += 1) {
      const node = this.servers.next();
      if (node === undefined || this.closed) break;
      const client = node.client as Client;
      try {
        return { server: node.url, id: await storeCopy(client, copy) };
      } catch (error) {
        // Stored perhaps, or not: either way the original is kept until a copy is known to be stored.
        this.notStored(node, client, error);
        if (!(error instanceof ConnectionError || error instanceof TimeoutError || error instanceof DrainingError)) throw error;
        lastError = error;
      }
    }
    throw noServerUp('drain', this.status, lastError);
  }

  private async withdraw(ref: JobRef): Promise<boolean> {
    return this.delete(ref).then(
      () => true,
      () => false,
    );
  }

  /** Takes a server out of the rotation: no puts, and its keys go to their next server by rendezvous order. */
  exclude(url: string): void {
    this.servers.get(url, 'url').excluded = true;
  }

  /** Puts an excluded (or drained) server back in the rotation and the key hash. */
  include(url: string): void {
    const node = this.servers.get(url, 'url');
    if (node.draining) throw new InvalidArgumentError('url', `${url} is being drained`);
    node.excluded = false;
  }

  /**
   * Adds a server; resolves once it answers (rejects, and it is not added, if it cannot be reached).
   * Keys move to it from the others (about one in the new number of servers): their order across the
   * change is not kept.
   */
  async addServer(url: string): Promise<void> {
    if (typeof url !== 'string') throw new InvalidArgumentError('url', 'url must be a string');
    if (this.servers.has(url)) throw new InvalidArgumentError('url', `${url} is already a server of this cluster`);
    const node = this.node(url, serverOptions(url, this.config.shared));
    if (this.closed) throw closedError('addServer');
    if (!(await node.start())) {
      await node.close();
      throw new ConnectionError(`cannot add ${url}: ${node.error?.message ?? 'unreachable'}`, { cause: node.error });
    }
    if (this.closed || this.servers.has(url)) {
      await node.close();
      throw this.closed ? closedError('addServer') : new InvalidArgumentError('url', `${url} was added meanwhile`);
    }
    this.servers.add(node);
  }

  /**
   * Forgets a server (drain it first) and closes its client after the replies in flight. JobRefs that
   * name it are refused from then on.
   */
  async removeServer(url: string): Promise<void> {
    const node = this.servers.get(url, 'url');
    if (node.draining) throw new InvalidArgumentError('url', `${url} is being drained`);
    if (this.servers.size === 1) throw new InvalidArgumentError('url', `${url} is the last server of the cluster`);
    this.servers.remove(node);
    node.removeAllListeners();
    await node.close();
  }

  /** Stops the retries and closes every client after the replies in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.servers.all.map((node) => node.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Only a missing option takes the default, as with a Client: `null` goes on to be refused. */
function given<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

function nullIfNotFound(error: unknown): null {
  if (error instanceof NotFoundError) return null;
  throw error;
}

function closedError(command: string): ConnectionError {
  return new ConnectionError(`${command}: the cluster is closed`, { command, maybeApplied: false });
}

function noServerUp(command: string, status: readonly ServerStatus[], cause?: Error): ConnectionError {
  const reasons = status.map((server) =>
    server.excluded ? `${server.url}: excluded` : `${server.url}: ${server.up ? 'failed' : `down (${server.error?.message ?? 'not connected'})`}`,
  );
  return new ConnectionError(`${command}: no server of the cluster is up (${reasons.join('; ')}); it was not sent`, {
    command,
    maybeApplied: false,
    cause,
  });
}
