/**
 * Fault injection: the cluster's cut links, one shared word per directed link between
 * endpoints (nodes and routers). A cut link loses every message, like a network that drops
 * packets: a storage node discards what it reads from a peer whose link to it is cut, and
 * drops the replies it would send a router over a cut link. The sender's ring still drains,
 * so the replication cores see loss (and retry), never a full ring.
 *
 * The words live in a SharedArrayBuffer that the main thread writes and every node thread
 * reads each round, so a cut takes effect at once, even on a busy or sleeping node, and
 * survives the node's restart.
 */
export class LinkCuts {
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer, readonly endpoints: number) {
    this.words = new Int32Array(buffer);
    if (this.words.length < endpoints * endpoints) throw new RangeError(`LinkCuts: buffer too small for ${endpoints} endpoints`);
  }

  get buffer(): SharedArrayBuffer {
    return this.words.buffer as SharedArrayBuffer;
  }

  static allocate(endpoints: number): SharedArrayBuffer {
    return new SharedArrayBuffer(endpoints * endpoints * 4);
  }

  /** Whether messages from `from` to `to` are lost. */
  isCut(from: number, to: number): boolean {
    return Atomics.load(this.words, from * this.endpoints + to) !== 0;
  }

  set(from: number, to: number, cut: boolean): void {
    Atomics.store(this.words, from * this.endpoints + to, cut ? 1 : 0);
  }

  /** Heals every link. */
  healAll(): void {
    for (let i = 0; i < this.words.length; i++) Atomics.store(this.words, i, 0);
  }

  /** The cut links, as [from, to] pairs. */
  list(): Array<[from: number, to: number]> {
    const cuts: Array<[number, number]> = [];
    for (let from = 0; from < this.endpoints; from++) {
      for (let to = 0; to < this.endpoints; to++) if (this.isCut(from, to)) cuts.push([from, to]);
    }
    return cuts;
  }
}
