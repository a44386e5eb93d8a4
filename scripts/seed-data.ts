/** A small deterministic random source (mulberry32): the same seed gives the same data on every run. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A version-4-shaped UUID drawn from this source, so ids repeat across runs too. */
  uuid(): string {
    const hex = Array.from({ length: 16 }, () => this.int(256));
    hex[6] = (hex[6] & 0x0f) | 0x40;
    hex[8] = (hex[8] & 0x3f) | 0x80;
    const text = hex.map((byte) => byte.toString(16).padStart(2, '0')).join('');
    return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
  }
}

const VERBS = ['Fix', 'Write', 'Review', 'Ship', 'Design', 'Test', 'Plan', 'Refactor', 'Document', 'Measure'];
const THINGS = [
  'login flow',
  'billing page',
  'search',
  'onboarding',
  'API limits',
  'dashboard',
  'export',
  'invoices',
  'mobile layout',
  'alerts',
];
const WORDS = [
  'looks good',
  'needs another pass',
  'blocked on review',
  'done on staging',
  'see the spec',
  'can we split this',
  'agreed',
  'ping me',
];

export function taskTitle(random: SeededRandom): string {
  return `${random.pick(VERBS)} ${random.pick(THINGS)}`;
}

export function commentBody(random: SeededRandom): string {
  return `${random.pick(WORDS)}, ${random.pick(WORDS)}.`;
}
