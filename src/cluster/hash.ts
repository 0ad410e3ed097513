/**
 * Which server a key belongs to: rendezvous (highest random weight) hashing over the servers as
 * given. Every server gets a score for the key and the highest wins, so the choice depends only on
 * the key and the list, never on which servers are up, and taking one server out of the list moves
 * only the keys it had (each to its runner-up); the others stay where they were.
 *
 * The scores are part of the contract: two producers given the same URLs send a key to the same
 * server, whichever version of beanline they run. So the functions are spelled out here rather than
 * taken from a library: FNV-1a (32-bit) of the UTF-8 bytes, combined with murmur3's 32-bit finaliser.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32-bit, of a string's UTF-8 bytes. */
export function fnv1a(text: string): number {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * murmur3's fmix32. FNV-1a alone mixes its last bytes poorly, so scores of one key on similar URLs
 * (ports 11300 and 11301) would rank the servers alike for many keys; after this every input bit
 * flips about half of the output bits.
 */
function fmix32(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The score of one server (by the FNV-1a of its URL) for one key (by the FNV-1a of the key). */
export function score(serverHash: number, keyHash: number): number {
  return fmix32((serverHash ^ fmix32(keyHash)) >>> 0);
}

/**
 * The index in `serverHashes` of the server that owns the key: the highest score, the earlier one
 * on a tie. -1 for an empty list.
 */
export function owner(serverHashes: readonly number[], key: string): number {
  const keyHash = fnv1a(key);
  let best = -1;
  let bestScore = -1;
  for (let index = 0; index < serverHashes.length; index += 1) {
    const candidate = score(serverHashes[index] as number, keyHash);
    if (candidate > bestScore) {
      best = index;
      bestScore = candidate;
    }
  }
  return best;
}
