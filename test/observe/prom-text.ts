/** @module test/observe/prom-text: a tiny parser of the Prometheus text format for assertions. */

/** One sample line: metric name, its labels and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample in `text`, comments skipped. Label values here never contain `"`, `,` or `}`. */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').split(',')) {
      const lm = /^(\w+)="(.*)"$/.exec(pair);
      if (lm) labels[lm[1] as string] = lm[2] as string;
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels are exactly `labels`, or undefined. */
export function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = parseSamples(text).filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${want}`);
  return found[0]?.value;
}

/** The samples named `name`, for checking which label sets exist. */
export function samplesOf(text: string, name: string): Sample[] {
  return parseSamples(text).filter((s) => s.name === name);
}
