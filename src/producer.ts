/** What every producer of jobs offers, so that `enqueue` and job definitions need not tell them apart. */

export interface PutOptions {
  /** The tube to put into. Default: a Client's own `use` tube; a Pool's or a Cluster's `default`. */
  tube?: string;
  /** 0 (most urgent) to 2^32-1. Default 1024. */
  priority?: number;
  /** Seconds before the job becomes ready. Default 0. */
  delay?: number;
  /** Seconds a worker may hold the job before the server hands it to another. Default 60. */
  ttr?: number;
  /**
   * For a Cluster: jobs with the same key go to the same server, so they keep their order. Ignored
   * by a Client and a Pool, which have one server.
   */
  key?: string;
}

/**
 * A job on one server of several: ids are only unique per server, so a job is named by both.
 * `server` is the server's URL as it was given.
 */
export interface JobRef {
  readonly server: string;
  readonly id: number;
}

/**
 * A Client, a Pool, a Cluster, or anything else that can put a job into a named tube: it resolves
 * with the job's id, or, on several servers, with a JobRef.
 */
export interface Producer {
  put(body: Buffer | Uint8Array | string, options?: PutOptions): Promise<number | JobRef>;
}
