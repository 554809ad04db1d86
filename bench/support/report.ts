// The benchmark table as Markdown and as an SVG bar chart of each ratio against its target.

export interface Row {
  db: string;
  scenario: string;
  value: number;
  unit: string;
  /** The figure the target applies to: a ratio, or the value itself when `absolute`. */
  ratio?: number;
  target?: number;
  lowerIsBetter?: boolean;
  absolute?: boolean;
  extra?: string;
}

export interface Results {
  date: string;
  quick: boolean;
  node: string;
  rows: Row[];
}

function met(row: Row): boolean | undefined {
  if (row.target === undefined) return undefined;
  const figure = row.absolute ? row.value : row.ratio;
  if (figure === undefined) return undefined;
  return row.lowerIsBetter ? figure <= row.target : figure >= row.target;
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

export function renderMarkdown(results: Results): string {
  const lines = [
    `Benchmark run ${results.date} (Node ${results.node}${results.quick ? ', quick smoke run: figures not comparable' : ''}).`,
    '',
    '| database | scenario | value | ratio | target | met | notes |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const row of results.rows) {
    const ok = met(row);
    lines.push(
      `| ${row.db} | ${row.scenario} | ${fmt(row.value)} ${row.unit} | ${row.ratio === undefined ? '' : fmt(row.ratio)} | ${row.target === undefined ? '' : `${row.lowerIsBetter ? '≤' : '≥'} ${row.target}${row.absolute ? ` ${row.unit}` : ''}`} | ${ok === undefined ? '' : ok ? 'yes' : '**no**'} | ${row.extra ?? ''} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderChart(results: Results): string {
  const bars = results.rows.filter((r) => r.target !== undefined && (r.ratio !== undefined || r.absolute));
  const width = 900;
  const rowHeight = 28;
  const left = 380;
  const scale = (width - left - 40) / 2;
  const height = 40 + bars.length * rowHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14">Figure / target (1.0 = target met exactly; green = met)</text>`,
  ];
  bars.forEach((row, i) => {
    const figure = row.absolute ? row.value : (row.ratio ?? 0);
    const target = row.target ?? 1;
    const relative = row.lowerIsBetter ? target / Math.max(figure, 1e-9) : figure / target;
    const y = 36 + i * rowHeight;
    parts.push(
      `<text x="10" y="${y + 14}">${escapeXml(`${row.db}: ${row.scenario}`)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.min(relative, 2) * scale}" height="18" fill="${met(row) ? '#2e8b57' : '#c0392b'}"/>`,
      `<text x="${left + Math.min(relative, 2) * scale + 4}" y="${y + 14}">${fmt(relative)}</text>`,
    );
  });
  parts.push(
    `<line x1="${left + scale}" y1="30" x2="${left + scale}" y2="${height}" stroke="black" stroke-dasharray="4"/>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
