// Combines the per-server results of bench.mjs into one JSON file and prints a
// markdown section (machine, command, commit, table of medians) on stdout.
//
//   node report.mjs [--ksdb FILE] [--reference FILE] --command CMD --commit SHA
//                   [--json-out FILE]
//
// A missing or absent per-server file leaves that column empty ("n/a").
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

// The issue's target: the 1000-record batch add at least this many times
// faster on ksdb than on the reference server.
const kBatchAddTarget = 10;

function readResult(file) {
  if (!file || !existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8'));
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const memKb = Number(/^MemTotal:\s*(\d+)/m.exec(meminfo)?.[1] ?? 0);
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  return { nproc: Number(nproc), cpu_model: model, ram_gib: Math.round((memKb / 1048576) * 10) / 10 };
}

// Each row: label, accessor, whether higher values are better (null: no
// ratio), and a fixed number of decimals (optional).
const kRows = [
  ['client floor: 1000 sequential adds, null server (ms)', (r) => r.client_floor?.sequential_1000_ms, null],
  ['client floor: 1000-record batch add, null server (ms)', (r) => r.client_floor?.batch_1000_ms, null],
  ['client floor: single query p50, null server (ms)', (r) => r.client_floor?.query_p50_ms, null],
  ['1000 records, 1000 sequential single-record adds (ms)', (r) => r.small_adds?.sequential_1000_ms, false],
  ['1000 records, one batch add (ms)', (r) => r.small_adds?.batch_1000_ms, false],
  ['sequential / batch (×)', (r) => r.small_adds?.sequential_over_batch, null],
  ['1000 records, one batch add as raw HTTP, pre-encoded body (ms)', (r) => r.raw_batch_add?.batch_1000_ms, false],
  ['ingest 20,000 in batches of 1000 (s)', (r) => r.ingest?.total_s, false],
  ['ingest 20,000 in batches of 1000 (records/s)', (r) => r.ingest?.records_per_s, true],
  ['single query p50 (ms)', (r) => r.query?.p50_ms, false],
  ['single query p99 (ms)', (r) => r.query?.p99_ms, false],
  ['single query recall@10', (r) => r.query?.recall_at_10, true, 3],
  ['8 concurrent clients (queries/s)', (r) => r.concurrent?.queries_per_s, true],
  ['8 concurrent raw-HTTP clients, same requests (queries/s)', (r) => r.concurrent_raw?.queries_per_s, true],
  ['filtered query (10% selective) p50 (ms)', (r) => r.filtered_query?.p50_ms, false],
  ['filtered query recall@10', (r) => r.filtered_query?.recall_at_10, true, 3],
];

// The --scale section (bench.mjs): N records, 1% filter.
const kScaleRows = [
  ['ingest in batches of 1000 (records/s)', (r) => r.scale?.ingest?.records_per_s, true],
  ['ingest in batches of 1000 (s)', (r) => r.scale?.ingest?.total_s, false],
  ['ksdb: graph complete after the first add (s; reference: n/a)', (r) => r.scale?.indexed?.total_s, false],
  ['single query p50 (ms)', (r) => r.scale?.query?.p50_ms, false],
  ['single query p99 (ms)', (r) => r.scale?.query?.p99_ms, false],
  ['single query recall@10', (r) => r.scale?.query?.recall_at_10, true, 3],
  ['8 concurrent clients (queries/s)', (r) => r.scale?.concurrent?.queries_per_s, true],
  ['8 concurrent raw-HTTP clients, same requests (queries/s)', (r) => r.scale?.concurrent_raw?.queries_per_s, true],
  ['filtered query (1% selective) p50 (ms)', (r) => r.scale?.filtered_query?.p50_ms, false],
  ['filtered query (1% selective) p99 (ms)', (r) => r.scale?.filtered_query?.p99_ms, false],
  ['filtered query (1% selective) recall@10', (r) => r.scale?.filtered_query?.recall_at_10, true, 3],
];

function fmt(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  if (digits !== undefined) return x.toFixed(digits);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(1);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

// How many times better ksdb is than the reference (> 1: ksdb better).
function advantage(k, ref, higherBetter) {
  if (higherBetter === null || k == null || ref == null || k === 0 || ref === 0) return null;
  return higherBetter ? k / ref : ref / k;
}

function table(ksdb, ref, rows = kRows) {
  const lines = [
    '| metric (median) | ksdb | reference | ksdb advantage (×, >1 = ksdb better) |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const [label, get, higherBetter, digits] of rows) {
    const k = ksdb ? get(ksdb) : null;
    const r = ref ? get(ref) : null;
    const a = advantage(k, r, higherBetter);
    lines.push(`| ${label} | ${fmt(k, digits)} | ${fmt(r, digits)} | ${a === null ? '—' : fmt(a)} |`);
  }
  return lines.join('\n');
}

function targetLine(ksdb, ref) {
  if (!ksdb?.small_adds || !ref?.small_adds) return 'Target (1000-record batch add ≥ 10× faster on ksdb): not measured in this run (one server only).';
  const speedup = ref.small_adds.batch_1000_ms / ksdb.small_adds.batch_1000_ms;
  const verdict = speedup >= kBatchAddTarget ? '**met**' : '**not met**';
  let line = `Target (1000-record batch add ≥ ${kBatchAddTarget}× faster on ksdb, end to end through the JS client): ` +
    `${verdict} — reference ${fmt(ref.small_adds.batch_1000_ms)} ms vs ksdb ${fmt(ksdb.small_adds.batch_1000_ms)} ms, ${fmt(speedup)}×.`;
  const floor = ksdb.client_floor?.batch_1000_ms;
  if (floor !== undefined) {
    const refServer = ref.small_adds.batch_1000_ms - floor;
    const ksdbServer = ksdb.small_adds.batch_1000_ms - floor;
    line += ` The client alone (null server) takes ${fmt(floor)} ms of that, so ` +
      `${kBatchAddTarget}× end to end would need the reference above ${fmt(kBatchAddTarget * floor)} ms. ` +
      `Server-side estimate (measured − client floor): reference ${fmt(refServer)} ms vs ksdb ${fmt(ksdbServer)} ms, ` +
      `${ksdbServer > 0 ? `${fmt(refServer / ksdbServer)}×` : 'n/a (ksdb within the floor noise)'}.`;
  }
  const rawK = ksdb.raw_batch_add?.batch_1000_ms;
  const rawR = ref.raw_batch_add?.batch_1000_ms;
  if (rawK && rawR) {
    const rawSpeedup = rawR / rawK;
    line += ` Server side, measured directly (identical pre-encoded raw HTTP body to both): reference ${fmt(rawR)} ms vs ` +
      `ksdb ${fmt(rawK)} ms, ${fmt(rawSpeedup)}× — target ${rawSpeedup >= kBatchAddTarget ? '**met**' : '**not met**'} at the server.`;
  }
  return line;
}

function main() {
  const { values } = parseArgs({
    options: {
      ksdb: { type: 'string' },
      reference: { type: 'string' },
      command: { type: 'string', default: 'bench/server/run.sh' },
      commit: { type: 'string', default: 'unknown' },
      'json-out': { type: 'string' },
    },
  });
  const ksdb = readResult(values.ksdb);
  const ref = readResult(values.reference);
  const m = machine();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const any = ksdb ?? ref;
  const combined = {
    date_utc: date, machine: m, command: values.command, ksdb_commit: values.commit,
    runs: any?.runs, ingest_runs: any?.ingest_runs, ksdb, reference: ref,
  };
  if (values['json-out']) writeFileSync(values['json-out'], `${JSON.stringify(combined, null, 2)}\n`);

  const scaleCount = ksdb?.scale?.count ?? ref?.scale?.count;
  const hasDefault = Boolean(ksdb?.small_adds || ref?.small_adds);
  const scaleSection = scaleCount ? [
    `### Scale: ${scaleCount.toLocaleString('en-US')} records × 384 (cosine; data: ${any?.data_description ?? 'uniform random in [-1, 1) per component'}), ingested once in batches of 1000; 1% filter = metadata \`bucket\` (1 of 100 values); query rows are medians over the runs`,
    '',
    table(ksdb, ref, kScaleRows),
    '',
  ] : [];
  const section = [
    `## Run ${date}`,
    '',
    `- Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu_model}, ${m.ram_gib} GiB RAM`,
    `- Command: \`${values.command}\``,
    `- ksdb commit: \`${values.commit}\`; reference: chromadb@3.0.9 (server ${ref?.server_version ?? 'n/a'})`,
    `- Medians over ${any?.runs ?? '?'} runs (ingest: ${any?.ingest_runs ?? '?'} runs); raw numbers in \`bench/server/results/latest.json\``,
    '',
    ...(hasDefault ? [table(ksdb, ref), '', targetLine(ksdb, ref), ''] : []),
    ...scaleSection,
  ];
  process.stdout.write(`${section.join('\n')}\n`);
}

main();
