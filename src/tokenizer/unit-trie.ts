// A trie over UTF-16 code units, stored as an open-addressing hash table of (node, unit) → child in typed
// arrays: compact for a 250 000-piece vocabulary and a few integer operations per step.

export class UnitTrie {
  /** Value at each node (a piece id), -1 when no key ends there. */
  private values = new Int32Array(1024).fill(-1);
  /** 1 when a node has children: most pieces end in a leaf, whose lookups then skip the table. */
  private parents = new Uint8Array(1024);
  private nodes = 1; // node 0 is the root
  private keyNode: Int32Array;
  private keyUnit: Uint16Array;
  private child: Int32Array;
  private mask: number;
  private used = 0;
  /** Children of the root by code unit, -1 when none: most steps are first steps (one CJK character). */
  private readonly root = new Int32Array(65536).fill(-1);

  constructor(expectedNodes = 1024) {
    let size = 1024;
    while (size < 2 * expectedNodes) size *= 2;
    this.keyNode = new Int32Array(size).fill(-1);
    this.keyUnit = new Uint16Array(size);
    this.child = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Sets the value of `key` (a later insert of the same key wins). */
  insert(key: string, value: number): void {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const u = key.charCodeAt(i);
      let next = this.next(node, u);
      if (next < 0) next = this.add(node, u);
      node = next;
    }
    this.values[node] = value;
  }

  /** The child of `node` along code unit `u`, -1 when none. */
  next(node: number, u: number): number {
    if (node === 0) return this.root[u]!;
    if (this.parents[node] === 0) return -1;
    const mask = this.mask;
    for (let h = hash(node, u) & mask; ; h = (h + 1) & mask) {
      const k = this.keyNode[h]!;
      if (k === -1) return -1;
      if (k === node && this.keyUnit[h] === u) return this.child[h]!;
    }
  }

  value(node: number): number {
    return this.values[node]!;
  }

  /** The value of exactly `key`, -1 when absent. */
  get(key: string): number {
    let node = 0;
    for (let i = 0; i < key.length && node >= 0; i++) node = this.next(node, key.charCodeAt(i));
    return node < 0 ? -1 : this.values[node]!;
  }

  private add(node: number, u: number): number {
    if (2 * (this.used + 1) > this.keyNode.length) this.grow();
    const id = this.nodes++;
    if (id >= this.values.length) {
      const v = new Int32Array(2 * this.values.length).fill(-1);
      v.set(this.values);
      this.values = v;
      const p = new Uint8Array(2 * this.parents.length);
      p.set(this.parents);
      this.parents = p;
    }
    this.parents[node] = 1;
    if (node === 0) this.root[u] = id;
    else this.put(node, u, id);
    return id;
  }

  private put(node: number, u: number, id: number): void {
    const mask = this.mask;
    let h = hash(node, u) & mask;
    while (this.keyNode[h] !== -1) h = (h + 1) & mask;
    this.keyNode[h] = node;
    this.keyUnit[h] = u;
    this.child[h] = id;
    this.used++;
  }

  private grow(): void {
    const [kn, ku, ch] = [this.keyNode, this.keyUnit, this.child];
    const size = 2 * kn.length;
    this.keyNode = new Int32Array(size).fill(-1);
    this.keyUnit = new Uint16Array(size);
    this.child = new Int32Array(size);
    this.mask = size - 1;
    this.used = 0;
    for (let h = 0; h < kn.length; h++) if (kn[h] !== -1) this.put(kn[h]!, ku[h]!, ch[h]!);
  }
}

function hash(node: number, u: number): number {
  const h = Math.imul(node, 0x9e3779b1) ^ Math.imul(u + 1, 0x85ebca6b);
  return h ^ (h >>> 16);
}
