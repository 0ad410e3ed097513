/** What every producer of jobs offers, so that `enqueue` and job definitions need not tell them apart. */

export interface PutOptions {
  /** The tube to put into. Default: a Client's own `use` tube; a Pool's `default`. */
  tube?: string;
  /** 0 (most urgent) to 2^32-1. Default 1024. */
  priority?: number;
  /** Seconds before the job becomes ready. Default 0. */
  delay?: number;
  /** Seconds a worker may hold the job before the server hands it to another. Default 60. */
  ttr?: number;
}

/** A Client, a Pool, or anything else that can put a job into a named tube and tell its id. */
export interface Producer {
  put(body: Buffer | Uint8Array | string, options?: PutOptions): Promise<number>;
}
