/** `GET /metrics` in the Prometheus text format (version 0.0.4), and the one histogram it keeps. */

/** Seconds, from 0.1 ms to 1 s: actuation is sub-millisecond when all is well. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class Histogram {
  private readonly counts = new Array<number>(BUCKETS.length).fill(0);
  private sum = 0;
  private n = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.n++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.counts[i]!++;
  }

  lines(name: string, labels = ''): string[] {
    const l = labels ? `${labels},` : '';
    return [
      ...BUCKETS.map((b, i) => `${name}_bucket{${l}le="${b}"} ${this.counts[i]}`),
      `${name}_bucket{${l}le="+Inf"} ${this.n}`,
      `${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}`,
      `${name}_count${labels ? `{${labels}}` : ''} ${this.n}`,
    ];
  }
}

/** A metrics page under construction: HELP and TYPE once per name, then its samples. */
export class MetricsText {
  private readonly out: string[] = [];

  metric(
    name: string,
    type: 'gauge' | 'counter' | 'histogram',
    help: string,
    samples: Array<[labels: Record<string, string | number>, value: number]> | string[],
  ): this {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of samples) {
      if (typeof s === 'string') this.out.push(s);
      else this.out.push(`${name}${labelText(s[0])} ${Number.isFinite(s[1]) ? s[1] : 'NaN'}`);
    }
    return this;
  }

  toString(): string {
    return `${this.out.join('\n')}\n`;
  }
}

function labelText(labels: Record<string, string | number>): string {
  const entries = Object.entries(labels);
  if (!entries.length) return '';
  return `{${entries.map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}
