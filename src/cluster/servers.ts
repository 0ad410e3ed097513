import { InvalidArgumentError } from '../errors.js';
import { owner } from './hash.js';
import type { ServerNode } from './node.js';

/**
 * The cluster's servers in the order given, and the two ways a put picks one: the next healthy
 * server in turn, or the owner of a key.
 */
export class ServerSet {
  private readonly nodes: ServerNode[] = [];
  private readonly byUrl = new Map<string, ServerNode>();
  private cursor = 0;

  constructor(nodes: readonly ServerNode[]) {
    for (const node of nodes) this.add(node);
  }

  get all(): readonly ServerNode[] {
    return this.nodes;
  }

  get size(): number {
    return this.nodes.length;
  }

  has(url: string): boolean {
    return this.byUrl.has(url);
  }

  add(node: ServerNode): void {
    this.nodes.push(node);
    this.byUrl.set(node.url, node);
  }

  remove(node: ServerNode): void {
    this.nodes.splice(this.nodes.indexOf(node), 1);
    this.byUrl.delete(node.url);
  }

  /** The server a URL names; InvalidArgumentError for one not in the cluster. */
  get(url: unknown, argument = 'server'): ServerNode {
    const node = typeof url === 'string' ? this.byUrl.get(url) : undefined;
    if (node === undefined) {
      throw new InvalidArgumentError(argument, `${String(url)} is not a server of this cluster (${this.nodes.map((n) => n.url).join(', ')})`);
    }
    return node;
  }

  /** Round-robin over the servers that are up and not excluded; undefined when there is none. */
  next(): ServerNode | undefined {
    const count = this.nodes.length;
    for (let step = 0; step < count; step += 1) {
      const node = this.nodes[(this.cursor + step) % count] as ServerNode;
      if (node.up && !node.excluded) {
        this.cursor = (this.cursor + step + 1) % count;
        return node;
      }
    }
    return undefined;
  }

  /**
   * The server that owns `key`: rendezvous hashing over the servers not excluded, whether they are
   * up or not, so that a server going down does not send its keys elsewhere (which would break their
   * order). Undefined only when every server is excluded.
   */
  ownerOf(key: string): ServerNode | undefined {
    const members = this.nodes.filter((node) => !node.excluded);
    return members[owner(members.map((node) => node.hash), key)];
  }
}
